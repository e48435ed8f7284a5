"""`audit()`: blind baselines + cues (+ style against a reference) of one benchmark, and its files.

`write_audit(result, out)` writes `audit.json` (everything, including which questions the blind model
answered right out-of-fold, for `mabench report --audit`) and `audit.md` (the readable summary).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mabench import __version__
from mabench.audit.blind import BlindTask, blind_baselines
from mabench.audit.cues import Cues, find_cues
from mabench.audit.style import Style, compare_style
from mabench.data.io import Benchmark, atomic_write_text, write_json
from mabench.report.stats import DEFAULT_BOOTSTRAP
from mabench.taxonomy import CLOSED_TASKS, TASKS

AUDIT_VERSION = "ma-audit-v1"
NEEDS_ANSWERS = ("blind baselines", "Yes rates (per task, family, word)", "correct-letter positions",
                 "option-cue hit rates", "contradictory answers")


@dataclass
class AuditResult:
    benchmark: dict[str, Any]  # path, sha256, questions, clips, has_answers
    settings: dict[str, Any]  # seed, folds, bootstrap
    blind: dict[str, BlindTask]
    cues: Cues
    style: Style | None = None
    skipped: list[str] = field(default_factory=list)  # checks not run because the benchmark has no answers
    blind_correct: dict[str, bool] = field(default_factory=dict)  # qid -> blind model right out-of-fold
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["version"] = AUDIT_VERSION
        out["mabench"] = __version__
        return out


def audit(bench: Benchmark, reference: Benchmark | None = None, seed: int = 0, folds: int = 5,
          n_boot: int = DEFAULT_BOOTSTRAP) -> AuditResult:
    """Audit a benchmark. Without answers, only the checks that need none run (`skipped` lists the rest)."""
    if folds < 2:
        raise ValueError(f"folds {folds}: cross-validation needs at least 2")
    t0 = time.perf_counter()
    answered = [q for q in bench if q.answer is not None]
    info = {"path": str(bench.path) if bench.path else None, "sha256": bench.sha256, "questions": len(bench),
            "clips": len(bench.videos), "has_answers": bool(answered),
            "answered_closed": sum(TASKS[q.task].closed for q in answered)}
    skipped = [] if answered else list(NEEDS_ANSWERS)
    blind = blind_baselines(bench, folds, seed, n_boot) if answered else None
    style = compare_style(bench, reference, folds, seed) if reference is not None else None
    res = AuditResult(info, {"seed": seed, "folds": folds, "bootstrap": n_boot}, blind.tasks if blind else {},
                      find_cues(bench), style, skipped, blind.correct if blind else {})
    res.seconds = round(time.perf_counter() - t0, 2)
    return res


def leak_summary(res: AuditResult) -> dict[str, dict[str, Any]]:
    """Per closed task: blind accuracy, majority and leak in %, or the status; for QC and the CLI."""
    out = {}
    for t, b in res.blind.items():
        if b.status != "ok":
            out[t] = {"status": b.status, "questions": b.questions}
            continue
        out[t] = {"status": "ok", "questions": b.questions, "blind": _pct(b.blind), "blind_ci": _pct(b.blind_ci),
                  "majority": _pct(b.majority), "chance": _pct(b.chance), "leak": _pct(b.leak),
                  "leak_ci": _pct(b.leak_ci), "label_only": _pct(b.label_only)}
    return out


def skipped_line(res: AuditResult) -> str:
    return "Skipped (the benchmark has no answers): " + ", ".join(res.skipped) + "." if res.skipped else ""


def _pct(x):
    if x is None:
        return None
    if isinstance(x, tuple | list):
        return [round(100 * v, 2) for v in x]
    return round(100 * x, 2)


# --- Markdown -------------------------------------------------------------------------------------


def _ci(ci) -> str:
    return f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else ""


def _short(text: str, n: int = 110) -> str:
    text = text.replace("\n", " / ").replace("|", "\\|")
    return text if len(text) <= n else text[: n - 1] + "…"


def blind_table(res: AuditResult) -> list[str]:
    lines = ["| task | questions | clips | chance | majority | blind (95% CI) | leak = blind − majority (95% CI) |",
             "|---|---|---|---|---|---|---|"]
    for t in CLOSED_TASKS:
        b = res.blind.get(t)
        if b is None:
            continue
        maj = f"{100 * b.majority:.1f} ({b.majority_answer})" if b.majority is not None else "–"
        if b.status != "ok":
            lines.append(f"| {t} | {b.questions} | {b.clips} | {100 * (b.chance or 0.0):.1f} | {maj} | {b.status} | |")
            continue
        lines.append(f"| {t} | {b.questions} | {b.clips} | {100 * (b.chance or 0.0):.1f} | {maj} | "
                     f"{100 * (b.blind or 0.0):.1f} {_ci(b.blind_ci)} | "
                     f"{100 * (b.leak or 0.0):+.1f} {_ci(b.leak_ci)} |")
    # only where the label distribution could explain an accuracy above chance
    choice = [b for t in CLOSED_TASKS if (b := res.blind.get(t)) is not None and b.status == "ok"
              and b.label_only is not None and b.label_only > (b.chance or 0.0)]
    if choice:
        lines.append("")
    for b in choice:  # the clips' label distribution, not the wording: told apart so neither hides the other
        assert b.label_only is not None
        lines.append(f"{b.task}: a model that knows only how often each label was the answer (in the other folds) "
                     f"scores {100 * b.label_only:.1f}% (chance {100 * (b.chance or 0.0):.1f}): the clips' label "
                     f"distribution, not the wording. Blind − that = {100 * ((b.blind or 0.0) - b.label_only):+.1f} "
                     f"points.")
    return lines


def audit_markdown(res: AuditResult) -> str:
    b, s = res.benchmark, res.settings
    lines = ["# Benchmark audit: can it be answered without the video?", "",
             f"{b['path']}: {b['questions']} questions, {b['clips']} clips, "
             f"{'with' if b['has_answers'] else 'without'} answers. Seed {s['seed']}, {s['folds']}-fold "
             f"cross-validation grouped by clip, {s['bootstrap']} clip-bootstrap replicates; {res.seconds:.1f} s.", ""]
    if res.skipped:
        lines += [skipped_line(res), ""]
    if res.blind:
        lines += ["## Blind baselines (question text only)", "", *blind_table(res), "",
                  "Accuracies in %. The blind model is trained on the other folds' clips and answers the held-out "
                  "clips' questions; the CI resamples clips with the predictions fixed.", ""]
    c = res.cues
    lines += ["## Cues", "", "Questions per clip: " + ", ".join(f"{k}×{n}" for k, n in c.questions_per_clip.items())
              + f" (design: 12; {c.clips_not_12} clips differ).",
              f"Duplicate questions within a clip: {len(c.duplicates)}; near-duplicates (same task, word overlap ≥ "
              f"80%): {len(c.near_duplicates)}; contradictory answers to the same question in a clip: "
              f"{len(c.contradictions)}.", ""]
    for g in (c.duplicates[:2] + c.contradictions[:2]):
        lines.append("- " + " ≡ ".join(f"{e.qid}: {_short(e.text, 70)}" + (f" → {e.answer}" if e.answer else "")
                                       for e in g))
    for t, tc in c.tasks.items():
        lines += ["", f"### {t}", "", f"{tc.questions} questions in {tc.families} phrasing families."
                  + (f" Yes rate {100 * tc.yes_rate:.1f}%." if tc.yes_rate is not None else "")]
        if tc.letter_positions:
            lines.append("Correct letter: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in tc.letter_positions.items()))
        lines += ["", "Largest families: " + "; ".join(f"`{_short(f.key, 80)}` ({f.n})" for f in tc.family_mix[:5])]
        if tc.family_rates:
            lines += ["", "| family | n | Yes % |", "|---|---|---|"]
            lines += [f"| `{_short(f.key, 90)}` | {f.n} | {100 * (f.rate or 0.0):.0f} |" for f in tc.family_rates[:6]]
        if tc.word_rates:
            lines += ["", "Words that move the Yes rate: " + ", ".join(
                f"*{w.key}* {100 * (w.rate or 0.0):.0f}% of {w.n}" for w in tc.word_rates[:8])]
        for oc in tc.option_cues:
            if not oc.questions:
                continue
            hit = "" if oc.correct is None else f"; the marked option is the answer in {oc.correct} " \
                                                f"(chance {oc.expected:.1f})"
            eg = f" e.g. {oc.examples[0].qid}" if oc.examples else ""
            lines.append(f"- option cue **{oc.kind}**: {oc.questions} questions{hit}.{eg}")
        lm = tc.label_mentions
        if lm is not None and lm.n:
            rate = "" if lm.rate is None else f" (Yes {100 * lm.rate:.0f}%)"
            lines.append(f"- {lm.n} questions name a fine label{rate}, e.g. {lm.examples[0].qid}: "
                         f"{_short(lm.examples[0].text, 90)}")
    if res.style is not None:
        lines += ["", f"## Style against {res.style.reference}", "",
                  "| task | questions (bench / ref) | ref questions whose family the bench has | bench questions "
                  "whose family the ref has | two-sample AUC | largest type differences (bench / ref %) |",
                  "|---|---|---|---|---|---|"]
        for t, st in res.style.tasks.items():
            types = ", ".join(f"{x.key} {100 * x.bench:.0f}/{100 * x.reference:.0f}" for x in st.types[:3])
            auc = f"{st.auc:.3f}" if st.auc is not None else st.auc_status
            cov = f"{100 * st.coverage_of_reference:.1f}% | {100 * st.coverage_of_bench:.1f}%"
            lines.append(f"| {t} | {st.bench_questions} / {st.reference_questions} | {cov} | {auc} | {types} |")
        lines += ["", "AUC 0.5: a text classifier cannot tell the two apart on slotted text; 1.0: it always can.", ""]
        for t, st in res.style.tasks.items():
            if TASKS[t].closed and t not in ("CMAR", "FMAR"):
                vocab = "; ".join(f"{k}: " + ", ".join(f"{x.key} {100 * x.bench:.0f}/{100 * x.reference:.0f}"
                                                     for x in v[:4]) for k, v in st.slot_values.items() if v)
                named = ", ".join(f"{x.key} {100 * x.bench:.0f}/{100 * x.reference:.0f}" for x in st.directions_named)
                lines.append(f"- {t} words more in the bench: {', '.join(st.words_more_in_bench[:6])}; more in the "
                             f"reference: {', '.join(st.words_more_in_reference[:6])}. Slots (bench/ref %): {vocab}. "
                             f"Directions named (bench/ref %): {named}")
        for o in res.style.open_answers:
            lines.append(f"- {o.task} answers: {o.bench_words:.0f} vs {o.reference_words:.0f} words, "
                         f"{o.bench_sentences:.1f} vs {o.reference_sentences:.1f} sentences, label line "
                         f"{100 * o.bench_label_line:.0f}% vs {100 * o.reference_label_line:.0f}%")
    return "\n".join(lines) + "\n"


def write_audit(res: AuditResult, out: str | Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "audit.json", res.to_json())
    atomic_write_text(out / "audit.md", audit_markdown(res))
    return out / "audit.json"


__all__ = ["AuditResult", "audit", "audit_markdown", "leak_summary", "skipped_line", "write_audit"]
