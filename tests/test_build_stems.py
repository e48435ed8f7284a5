"""`mabench build --stems-from / --reference`: the fixed-stem tasks asked with a reference's stems, and the
style gate of `--qc` against a reference. The references here are invented (no official sentence); the one
test that reads the official file skips without it."""

import json
import re
from collections import Counter

import pytest
from typer.testing import CliRunner

from mabench.builder.qc import TYPE_MIX_GATE, qc_gate, type_mix_delta
from mabench.builder.questions import TEMPLATES, question_stem, reference_stems
from mabench.cli import app
from mabench.synth.generate import write_set
from mabench.taxonomy import COARSE_CLASSES, FINE_LABELS

# how alike a build that takes a file's stems reads to that file: a measurement here, not a QC gate
STEMS_READ_ALIKE_AUC = 0.75

# invented stems: (text, how often the reference asks it)
STEMS = {
    "CMAR": (("Quokka wombat: pick the broad family of this clip's gesture.", 9),
             ("Rare phrasing of the broad family request.", 1)),
    "FMAR": (("Quokka wombat: pick the narrow name of this clip's gesture.", 9),
             ("Rare phrasing of the narrow name request.", 1)),
    "MADU": (("Quokka wombat: narrate which limbs travel and how.", 9),), "MARE": (
        ("Quokka wombat: reason step by step to the gesture's name.", 9), ("Rare phrasing of the reasoning.", 1)),
}
OPTION = re.compile(r"^[A-G]\. ")


def _reference(n_clips: int, relational: bool = False) -> list[dict]:
    """A benchmark in the official format (no answers) asking with STEMS in their proportions; with
    `relational`, Yes/No questions in a wording no build uses."""
    recs: list[dict] = []
    for i in range(n_clips):
        video = f"ref_{i:03d}"
        for task, stems in STEMS.items():
            pool = [s for s, n in stems for _ in range(n)]
            stem = pool[i % len(pool)]
            if task == "CMAR":
                stem += "\n" + "\n".join(f"{'ABCDEFG'[k]}. {c}" for k, c in enumerate(COARSE_CLASSES))
            elif task == "FMAR":
                stem += "\n" + "\n".join(f"{'ABCDE'[k]}. {FINE_LABELS[(i + k) % len(FINE_LABELS)]}" for k in range(5))
            recs.append({"video_name": video, "task": task, "question": stem})
        if relational:
            for task in ("SAD", "MAD", "MAS", "PPR"):
                for j in range(3):
                    recs.append({"video_name": video, "task": task,
                                 "question": f"Zorp {task.lower()} glim {i % 7} vex {j} quaffle snark?"})
    counters: Counter[str] = Counter()
    for r in recs:
        r["qid"] = f"{r['task']}_{counters[r['task']]:04d}"
        counters[r["task"]] += 1
    return recs


def _all_stems() -> dict[str, set[str]]:
    return {t: {s for s, _ in v} for t, v in STEMS.items()}


def test_reference_stems_counts_distinct_stems_without_options():
    recs = _reference(20)
    recs.append({"video_name": "x", "task": "CMAR", "qid": "CMAR_9999",
                 "question": "  Rare phrasing of the broad family request.  \nA) Head\nB) Body"})
    recs.append({"video_name": "x", "task": "SAD", "qid": "SAD_0000", "question": "Does it move?"})
    stems = reference_stems(recs)
    assert list(stems) == ["CMAR", "FMAR", "MADU", "MARE"]  # no SAD: only the fixed-stem tasks
    assert stems["CMAR"] == (("Quokka wombat: pick the broad family of this clip's gesture.", 18),
                             ("Rare phrasing of the broad family request.", 3))
    assert stems["MADU"] == (("Quokka wombat: narrate which limbs travel and how.", 20),)
    assert all(not OPTION.match(line) for s, _ in stems["FMAR"] for line in s.splitlines())
    assert question_stem("FMAR", "Name it.\nPlease look.\nA. x\nB. y\nnote") == "Name it.\nPlease look."
    assert reference_stems([r for r in recs if r["task"] != "MARE"]).keys() == {"CMAR", "FMAR", "MADU"}


def test_qc_gate_reads_the_thresholds_from_the_report():
    from mabench.audit.style import Share

    # the style AUC is reported, never gated (templates cannot read like an LLM-written file); type mix is gated
    assert qc_gate({"audit": {"style_auc": {"CMAR": 0.999, "SAD": 0.999}}})["passed"]
    # type mix: 12 points off on 400 questions is beyond 5 + 2 standard errors (~5 points); on 40 it is not
    types = [Share("direction", 0.42, 0.54), Share("position", 0.20, 0.15)]
    big, small = type_mix_delta(types, 400), type_mix_delta(types, 40)
    assert big["type"] == "direction" and big["delta"] == 12.0 and TYPE_MIX_GATE < big["allowed"] < 12
    assert small["allowed"] > 12
    assert qc_gate({"audit": {"style_type_delta": {"SAD": big}}})["failures"] == [
        f"SAD question type 'direction' 12.0 points from the reference's share (allowed {big['allowed']:g})"]
    assert qc_gate({"audit": {"style_type_delta": {"SAD": small}}})["passed"]


@pytest.fixture(scope="module")
def clip_set(tmp_path_factory):
    # 24 clips: at least 20 questions per side and task for the two-sample test over all built questions
    root = tmp_path_factory.mktemp("stemclips")
    write_set(root, 24, seed=3, workers=2, subjects=12, min_s=1.5, max_s=2.5, width=96, height=72, fps=15)
    return root


def _build(clip_set, out, *extra):
    return CliRunner().invoke(app, ["build", str(clip_set / "clips"), "--labels", str(clip_set / "labels.csv"),
                                    "--skeletons", str(clip_set / "skeletons"), "--out", str(out), "--no-flow",
                                    "--test-fraction", "0.3", "--workers", "2", *extra])


@pytest.fixture(scope="module")
def stems_built(clip_set, tmp_path_factory):
    root = tmp_path_factory.mktemp("stemsbuilt")
    ref = root / "ref.json"
    ref.write_text(json.dumps(_reference(20)))
    r = _build(clip_set, root / "out", "--stems-from", str(ref))
    assert r.exit_code == 0, r.output
    return root, r.output


def test_stems_from_asks_with_the_reference_stems(stems_built):
    root, output = stems_built
    out = root / "out"
    assert f"stems: CMAR, FMAR, MADU, MARE from {root / 'ref.json'} (2/2/1/2 stems)" in output
    summary = json.loads((out / "build.json").read_text())
    assert summary["settings"]["stems_from"] == str(root / "ref.json") and summary["stems"]["MADU"] == 1
    allowed, used = _all_stems(), Counter()
    for name in ("benchmark.json", "train_questions.json"):
        for q in json.loads((out / name).read_text()):
            if q["task"] not in allowed:
                assert not any(s in q["question"] for v in allowed.values() for s in v)
                continue
            stem = question_stem(q["task"], q["question"])
            assert stem in allowed[q["task"]], q["question"]
            assert stem not in TEMPLATES[q["task"]]
            used[stem.startswith("Quokka")] += 1
            options = q["question"].splitlines()[1:]
            if q["task"] in ("CMAR", "FMAR"):  # the options as mabench writes them, one per line
                assert len(options) == (7 if q["task"] == "CMAR" else 5)
                assert all(OPTION.match(line) for line in options)
                assert q["answer"] in "ABCDEFG"
            else:
                assert not options
    assert used[True] > 3 * used[False] > 0  # the reference's proportions (9:1), not uniform
    chat = [json.loads(line) for line in (out / "corpus" / "chat.jsonl").read_text().splitlines()]
    for task in ("CMAR", "MARE"):  # the corpus takes its prompts from the built questions
        sample = next(s for s in chat if s["task"] == task)
        user = next(m for m in sample["messages"] if m["role"] == "user")
        text = " ".join(c["text"] for c in user["content"] if c.get("type") == "text")
        assert any(s in text for s in allowed[task])


def test_reference_options_fail_early_with_one_line(clip_set, tmp_path):
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps(_reference(3)))
    r = _build(clip_set, tmp_path / "a", "--reference", str(ref))
    assert r.exit_code == 2 and "--reference serves QC" in r.output and "--qc" in r.output
    assert not (tmp_path / "a").exists()
    # with --stems-from too: the reference would still be read by nothing
    r = _build(clip_set, tmp_path / "a", "--reference", str(ref), "--stems-from", str(ref))
    assert r.exit_code == 2 and "--reference serves QC" in r.output and not (tmp_path / "a").exists()
    r = _build(clip_set, tmp_path / "b", "--qc", "--reference", str(tmp_path / "missing.json"))
    assert r.exit_code == 2 and "--reference" in r.output and "no such file" in r.output
    bad = tmp_path / "bad.json"
    bad.write_text("[{\"task\": \"CMAR\"")
    r = _build(clip_set, tmp_path / "c", "--stems-from", str(bad))
    assert r.exit_code == 2 and "--stems-from" in r.output and "invalid JSON" in r.output
    assert len([line for line in r.output.splitlines() if line.strip()]) == 1


def test_qc_style_gate_fails_against_a_differently_worded_reference(clip_set, tmp_path):
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps(_reference(24, relational=True)))
    out = tmp_path / "out"
    r = _build(clip_set, out, "--qc", "--reference", str(ref))
    assert r.exit_code == 1, r.output
    qc = json.loads((out / "qc.json").read_text())["audit"]
    assert qc["style_reference"] == str(ref) and "style_gated" not in qc
    assert min(qc["style_auc"][t] for t in ("SAD", "MAD", "MAS", "PPR")) > 0.99
    # the invented questions are all of type "other": every task's mix is far from it
    assert all(qc["style_type_delta"][t]["delta"] > qc["style_type_delta"][t]["allowed"]
               for t in ("SAD", "MAD", "MAS", "PPR")), qc["style_type_delta"]
    md = (out / "qc.md").read_text()
    assert f"## Style against {ref}" in md and "| SAD |" in md
    assert "QC gate: **FAILED**" in md and "question type" in md.split("QC gate:")[1]
    assert "QC gate failed" in r.output


def test_qc_style_gates_pass_against_a_reference_read_alike(clip_set, stems_built, tmp_path):
    # the reference: a build of the same clips with the same stems (so the same style); its stems are gated
    root, _ = stems_built
    ref = tmp_path / "alike.json"  # all its built questions: 24 per fixed-stem task, enough for the test
    ref.write_text(json.dumps([{**q, "qid": f"{split}/{q['qid']}"} for split in ("benchmark", "train_questions")
                               for q in json.loads((root / "out" / f"{split}.json").read_text())]))
    out = tmp_path / "out"
    r = _build(clip_set, out, "--qc", "--seed", "5", "--stems-from", str(root / "ref.json"), "--reference", str(ref))
    rep = json.loads((out / "qc.json").read_text())
    qc = rep["audit"]
    assert all(d["delta"] <= d["allowed"] for d in qc["style_type_delta"].values())
    assert all(qc["style_auc"][t] <= STEMS_READ_ALIKE_AUC for t in ("CMAR", "FMAR", "MADU", "MARE"))
    # the style gates pass. The leak gate (tested in test_build.py) judges each of six tasks on 44 questions here
    # with no correction for testing six: on these 24 clips it fails PPR (+13.6 points, CI [4.5, 27.3]), and the
    # build's exit code and QC verdict must then be that gate's alone
    failures = qc_gate(rep)["failures"]
    assert not [f for f in failures if "style" in f or "question type" in f], failures
    leak_only = [f for f in failures if "blind leak" in f]
    assert failures == leak_only and r.exit_code == (1 if leak_only else 0), r.output
    assert ("QC gate: passed" in (out / "qc.md").read_text()) == (not leak_only)


def test_stems_from_the_official_file_read_like_it(clip_set, official_file, tmp_path):
    out = tmp_path / "out"
    r = _build(clip_set, out, "--qc", "--stems-from", str(official_file))  # the stems file is the QC reference
    assert r.exit_code == 0, r.output
    assert "(5/5/5/5 stems)" in r.output
    qc = json.loads((out / "qc.json").read_text())["audit"]
    for t in ("CMAR", "FMAR", "MADU", "MARE"):
        assert qc["style_auc"][t] is not None and qc["style_auc"][t] <= STEMS_READ_ALIKE_AUC, qc["style_auc"]


def test_stems_log_names_the_tasks_that_keep_mabench_wording(tmp_path):
    from mabench.builder.pipeline import _stems

    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps([r for r in _reference(2) if r["task"] in ("CMAR", "MARE")]))
    lines: list[str] = []
    stems = _stems(str(ref), lines.append)
    assert stems is not None and set(stems) == {"CMAR", "MARE"} and _stems(None, lines.append) is None
    assert lines == [f"stems: CMAR, MARE from {ref} (1/1 stems); FMAR, MADU keep mabench's own"]
