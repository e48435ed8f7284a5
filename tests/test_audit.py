"""`mabench audit`: planted cues are found at their planted size, shuffled answers give no leak, seeds
reproduce, missing answers and tiny tasks are reported as such; CLI, QC-free report split, official file."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mabench.audit import audit, audit_markdown, write_audit
from mabench.cli import app
from mabench.data import load_benchmark
from mabench.taxonomy import BODY_PARTS, COARSE_CLASSES, FINE_LABELS, PHASES, display_label

REPO = Path(__file__).resolve().parents[1]
OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "mabench_questions_official.json"
DIRS = ("upward", "downward", "leftward", "rightward")
# Our own Yes/No templates, several per task so the blind model has wording to learn (or not).
TEMPLATES = {
    "SAD": ("Is the {a} heading {d} in the {p} part of the clip?", "During the {p} third, does the {a} go {d}?",
            "Would you say the {a} travels {d} in the {p} phase?"),
    "MAD": ("In the {p} phase, does the {a} go {d} as the {b} does?", "Do the {a} and {b} share a {d} path early on?",
            "Is the {a} going {d} while the {b} goes {d} too?"),
    "MAS": ("Does the {a} get going ahead of the {b}?", "Is the {b} later to move than the {a}?",
            "Has the {a} begun before the {b} begins?"),
    "PPR": ("In the {p} phase, do the {a} and the {b} draw closer?",
            "Does the gap from {a} to {b} shrink in the {p} phase?",
            "During the {p} phase, is the {a} nearing the {b}?"),
}
PLANT_SHARE = 0.3  # share of SAD questions carrying "throughout", all answered No


def planted_records(n_clips: int, seed: int = 0, plant: bool = True) -> list[dict]:
    """A benchmark in the official format. With `plant`: SAD questions that say "throughout" are always No
    (the rest Yes-leaning so the task stays balanced: the best blind accuracy is 50% + PLANT_SHARE), and
    the FMAR answer is always the longest option."""
    rng = random.Random(seed)
    recs: list[dict] = []
    n = {t: 0 for t in ("CMAR", "FMAR", *TEMPLATES)}

    def add(clip, task, q, a):
        recs.append({"video_name": clip, "task": task, "qid": f"{task}_{n[task]:05d}", "question": q, "answer": a})
        n[task] += 1

    by_len = sorted(FINE_LABELS, key=len)
    for c in range(n_clips):
        clip = f"clip_{c:04d}"
        classes = list(COARSE_CLASSES)
        rng.shuffle(classes)
        add(clip, "CMAR", "Which body region does this micro-action belong to?\n" +
            "\n".join(f"{'ABCDEFG'[i]}. {x}" for i, x in enumerate(classes)), "ABCDEFG"[rng.randrange(7)])
        if plant:  # the answer: a label longer than all four distractors
            answer = rng.choice(by_len[-15:])
            distract = rng.sample([f for f in by_len if len(f) < len(answer)][:30], 4)
        else:
            answer, *distract = rng.sample(FINE_LABELS, 5)
        opts = [answer, *distract]
        rng.shuffle(opts)
        add(clip, "FMAR", "Name the specific micro-action in this clip.\n" +
            "\n".join(f"{'ABCDE'[i]}. {display_label(o)}" for i, o in enumerate(opts)), "ABCDE"[opts.index(answer)])
        for task, tpls in TEMPLATES.items():
            for _ in range(2):
                a, b = rng.sample(BODY_PARTS, 2)
                q = rng.choice(tpls).format(a=a, b=b, d=rng.choice(DIRS), p=rng.choice(PHASES))
                if task == "SAD" and plant and rng.random() < PLANT_SHARE:
                    add(clip, task, q.rstrip("?") + " throughout?", "No")
                elif task == "SAD" and plant:
                    add(clip, task, q, "Yes" if rng.random() < 0.5 / (1 - PLANT_SHARE) else "No")
                else:
                    add(clip, task, q, rng.choice(["Yes", "No"]))
    return recs


def _write(tmp_path: Path, recs: list[dict], name: str = "bench.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(recs), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("planted"), planted_records(240, seed=1))


def test_planted_cues_are_found_at_their_size(planted):
    res = audit(load_benchmark(planted), seed=0)
    sad = res.blind["SAD"]
    assert sad.status == "ok" and abs(sad.majority - 0.5) < 0.06
    # the best a text-only reader can do is 50% + PLANT_SHARE; the leak must be about PLANT_SHARE
    assert sad.leak_ci[0] <= PLANT_SHARE + 0.02 and sad.leak_ci[1] >= PLANT_SHARE - 0.08, sad
    assert abs(sad.leak - PLANT_SHARE) < 0.09
    word = next(w for w in res.cues.tasks["SAD"].word_rates if w.key == "throughout")
    assert word.rate == 0.0 and abs(word.n / sad.questions - PLANT_SHARE) < 0.06
    # FMAR: the longest option is always right, and the option scorer learns it
    fmar = res.blind["FMAR"]
    assert fmar.blind > 0.9 and fmar.leak > 0.6
    longest = next(o for o in res.cues.tasks["FMAR"].option_cues if o.kind == "longest")
    assert longest.questions == longest.correct == fmar.questions
    # unplanted tasks stay near their majority
    for t in ("MAD", "MAS", "PPR", "CMAR"):
        b = res.blind[t]
        assert b.leak_ci[0] <= 0.02 and b.leak < 0.1, b


def test_shuffled_answers_come_out_at_the_majority_rate(planted):
    recs = json.loads(planted.read_text())
    rng = random.Random(5)
    for task in ("CMAR", "FMAR", *TEMPLATES):
        idx = [i for i, r in enumerate(recs) if r["task"] == task]
        answers = [recs[i]["answer"] for i in idx]
        rng.shuffle(answers)
        for i, a in zip(idx, answers, strict=True):
            recs[i]["answer"] = a
    res = audit(load_benchmark(_write(planted.parent, recs, "shuffled.json")), seed=0)
    for t in ("SAD", "MAD", "MAS", "PPR"):
        b = res.blind[t]
        assert b.blind_ci[0] <= b.majority <= b.blind_ci[1], b
        assert b.leak_ci[0] <= 0 <= b.leak_ci[1], b
    # FMAR with shuffled answers: the longest-option cue is gone, back to chance
    assert res.blind["FMAR"].blind < 0.4


def test_same_seed_same_output_and_the_seed_matters(tmp_path):
    bench = load_benchmark(_write(tmp_path, planted_records(60, seed=6)))
    a, b, c = audit(bench, seed=3), audit(bench, seed=3), audit(bench, seed=4)
    ja, jb, jc = (x.to_json() for x in (a, b, c))
    for j in (ja, jb, jc):
        j.pop("seconds")
    assert ja == jb
    assert ja["blind"]["SAD"]["blind_ci"] != jc["blind"]["SAD"]["blind_ci"]  # the bootstrap follows the seed
    write_audit(a, tmp_path / "a")
    write_audit(b, tmp_path / "b")
    da, db = (json.loads((tmp_path / x / "audit.json").read_text()) for x in "ab")
    da.pop("seconds"), db.pop("seconds")
    assert da == db and da["blind_correct"]


def test_without_answers_runs_what_needs_none(tmp_path):
    recs = planted_records(30, seed=2)
    for r in recs:
        r.pop("answer")
    res = audit(load_benchmark(_write(tmp_path, recs)))
    assert not res.blind and not res.blind_correct
    assert "blind baselines" in res.skipped
    md = audit_markdown(res)
    assert "Skipped (the benchmark has no answers): blind baselines" in md
    assert res.cues.tasks["SAD"].families >= 3 and res.cues.tasks["SAD"].yes_rate is None
    assert res.cues.questions_per_clip == {10: 30} and res.cues.clips_not_12 == 30  # no MADU / MARE here


def test_too_few_questions_is_a_status_not_a_number(tmp_path):
    res = audit(load_benchmark(_write(tmp_path, planted_records(4, seed=3))), folds=5)
    for b in res.blind.values():
        assert b.status.startswith("too few") and b.blind is None and b.leak is None
    assert "too few" in audit_markdown(res)


def test_cues_duplicates_contradictions_and_label_mentions(tmp_path):
    recs = planted_records(30, seed=4)
    sad = [r for r in recs if r["task"] == "SAD" and r["video_name"] == "clip_0000"]
    sad[1]["question"], sad[1]["answer"] = sad[0]["question"], ("No" if sad[0]["answer"] == "Yes" else "Yes")
    mas = next(r for r in recs if r["task"] == "MAS")
    mas["question"] = "Does the head start moving before the nodding is over?"
    fmar = next(r for r in recs if r["task"] == "FMAR")
    first = fmar["question"].split("\n")[1]
    fmar["question"] = fmar["question"].replace(first, first + " - C1")
    res = audit(load_benchmark(_write(tmp_path, recs)))
    assert len(res.cues.duplicates) == 1 and len(res.cues.contradictions) == 1
    assert res.cues.tasks["MAS"].label_mentions.n == 1
    code = next(o for o in res.cues.tasks["FMAR"].option_cues if o.kind == "code_suffix")
    assert code.questions == 1 and code.examples[0].qid == fmar["qid"]


def test_style_against_a_reference(planted, tmp_path):
    same = audit(load_benchmark(planted), reference=load_benchmark(planted))
    st = same.style.tasks["SAD"]
    assert st.coverage_of_reference == st.coverage_of_bench == 1.0
    other = planted_records(120, seed=9)
    for r in other:  # the reference asks Yes/No questions in a different style
        if r["task"] == "MAS":
            r["question"] = "Prior to the {} starting, had the head already moved at all?".format(
                r["question"].split("the ")[1].split(" ")[0])
    res = audit(load_benchmark(planted), reference=load_benchmark(_write(tmp_path, other, "ref.json")))
    assert res.style.tasks["MAS"].auc > 0.95 and res.style.tasks["MAS"].coverage_of_reference == 0.0
    assert res.style.tasks["SAD"].auc < 0.7  # same templates on both sides
    # how many directions the questions name, on both sides: none in the planted MAS; two in every reference one
    # but a quarter, which names one
    for k, r in enumerate(r for r in other if r["task"] == "MAS"):
        r["question"] = ("Did the head begin moving upward before the torso began moving leftward?" if k % 4 else
                         "Did the head begin moving before the torso began moving leftward?")
    res = audit(load_benchmark(planted), reference=load_benchmark(_write(tmp_path, other, "ref2.json")))
    named = {x.key: (x.bench, x.reference) for x in res.style.tasks["MAS"].directions_named}
    assert named["0"] == (1.0, 0.0) and named["1"][1] == pytest.approx(0.25, abs=0.02)
    assert named["2+"][1] == pytest.approx(0.75, abs=0.02)
    assert "Directions named (bench/ref %): 0 100/0, 1 0/25, 2+ 0/75" in audit_markdown(res)


def test_cli_end_to_end(planted, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = tmp_path / "aud"
    r = subprocess.run([sys.executable, "-c", "from mabench.cli import app; app()", "audit", str(planted),
                        "--out", str(out), "--seed", "1", "--folds", "4", "--reference", str(planted)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "SAD" in r.stdout and "leak" in r.stdout and "two-sample AUC" in r.stdout
    data = json.loads((out / "audit.json").read_text())
    assert data["settings"] == {"seed": 1, "folds": 4, "bootstrap": 2000}
    assert data["blind"]["SAD"]["status"] == "ok" and "## Blind baselines" in (out / "audit.md").read_text()
    bad = subprocess.run([sys.executable, "-c", "from mabench.cli import app; app()", "audit",
                          str(tmp_path / "nope.json")], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "no such file" in bad.stderr


def test_report_splits_text_solvable_from_needs_the_video(planted, tmp_path):
    from mabench.report.leaderboard import build_report

    aud = tmp_path / "aud"
    res = audit(load_benchmark(planted))
    write_audit(res, aud)
    bench = load_benchmark(planted)
    # a run that is right exactly where the blind model is right: 100% text-solvable, 0% needs the video
    run = tmp_path / "shortcut"
    run.mkdir()
    with open(run / "predictions.jsonl", "w") as f:
        for q in bench:
            if not q.spec.closed:
                continue
            wrong = next(c for c in q.spec.choices if c != q.answer)
            pred = q.answer if res.blind_correct.get(q.qid) else wrong
            f.write(json.dumps({"qid": q.qid, "task": q.task, "video": q.video, "pred_answer": pred}) + "\n")
    rep = build_report([run], planted, 200, 0, aud)
    split = rep["audit_split"]
    assert split["same_benchmark"]
    sad = split["runs"][0]["tasks"]["SAD"]
    assert sad["text-solvable"]["accuracy"] == 100.0 and sad["needs the video"]["accuracy"] == 0.0
    assert sad["text-solvable"]["n"] + sad["needs the video"]["n"] == res.blind["SAD"].questions
    assert sad["text-solvable"]["n"] == round(res.blind["SAD"].blind * res.blind["SAD"].questions)
    r = CliRunner().invoke(app, ["report", str(run), "--key", str(planted), "--out", str(tmp_path / "rep"),
                                 "--audit", str(aud), "--bootstrap", "200", "--no-paper", "--html"])
    assert r.exit_code == 0, r.output
    assert "Text-solvable vs needs the video" in (tmp_path / "rep" / "leaderboard.md").read_text()
    assert 'id="audit-split"' in (tmp_path / "rep" / "index.html").read_text()
    r = CliRunner().invoke(app, ["report", str(run), "--key", str(planted), "--out", str(tmp_path / "rep2"),
                                 "--audit", str(tmp_path / "missing"), "--no-html"])
    assert r.exit_code == 2 and "no audit.json" in r.output


def test_official_file_without_answers():
    if not OFFICIAL.exists():
        pytest.skip("shared/data/mabench_questions_official.json not present (only in the dev workspace)")
    res = audit(load_benchmark(OFFICIAL))
    assert res.benchmark["questions"] == 12000 and not res.benchmark["has_answers"] and res.skipped
    assert res.cues.questions_per_clip == {12: 1000}
    fmar = {o.kind: o for o in res.cues.tasks["FMAR"].option_cues}
    assert fmar["duplicate_label"].questions == 62 and fmar["code_suffix"].questions > 0
    assert fmar["code_suffix"].correct is None  # no answers: counts, no hit rates
    assert res.cues.tasks["CMAR"].families <= 10 and res.cues.tasks["SAD"].families > 100
    assert res.cues.tasks["SAD"].label_mentions.n > 0


def test_build_qc_states_the_leak_per_task(tmp_path):
    from mabench.synth.generate import write_set

    write_set(tmp_path / "s", 12, seed=2, workers=2, subjects=4, min_s=1.5, max_s=2.0)
    out = tmp_path / "b"
    r = CliRunner().invoke(app, ["build", str(tmp_path / "s" / "clips"), "--labels", str(tmp_path / "s" / "labels.csv"),
                                 "--skeletons", str(tmp_path / "s" / "skeletons"), "--out", str(out), "--no-flow",
                                 "--test-fraction", "0.5", "--workers", "2", "--qc"])
    from mabench.builder.qc import qc_gate

    gate = qc_gate(json.loads((out / "qc.json").read_text()))
    assert r.exit_code == (0 if gate["passed"] else 1), r.output  # a failed gate fails the exit, the files stay
    qc = json.loads((out / "qc.json").read_text())["audit"]
    # 6 test clips are too few for 5 folds: a status; all 12 built clips are enough for the Yes/No tasks
    assert qc["benchmark"]["leak"]["SAD"]["status"].startswith("too few")
    assert qc["all_built"]["clips"] == 12 and qc["all_built"]["leak"]["SAD"]["status"] == "ok"
    assert (out / "audit" / "audit.md").exists() and (out / "audit_all" / "audit.json").exists()
    assert "Blind audit" in (out / "qc.md").read_text() and "Blind audit" in r.output


def test_open_answers_compared_when_both_have_them(tmp_path):
    from mabench.synth.questions import placeholder_records

    a = load_benchmark(_write(tmp_path, placeholder_records(6, seed=1), "a.json"))
    b = load_benchmark(_write(tmp_path, placeholder_records(6, seed=2), "b.json"))
    res = audit(a, reference=b)
    opens = {o.task: o for o in res.style.open_answers}
    assert set(opens) == {"MADU", "MARE"}
    assert opens["MARE"].bench_label_line == opens["MARE"].reference_label_line == 1.0
    assert opens["MADU"].bench_words == opens["MADU"].reference_words > 3
    assert res.style.tasks["SAD"].auc is None and res.style.tasks["SAD"].auc_status.startswith("too few")
    r = CliRunner().invoke(app, ["audit", str(tmp_path / "a.json"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0 and "phrasing families: CMAR 1" in r.output, r.output


def test_an_uneven_label_distribution_is_named_apart_from_the_wording(tmp_path):
    """CMAR with every class listed in shuffled order and "Head" the answer of 40% of the clips: the text
    model learns the label distribution (no wording cue exists), and the report says how much that gives."""
    rng = random.Random(3)
    recs = []
    for c in range(300):
        classes = list(COARSE_CLASSES)
        rng.shuffle(classes)
        right = "Head" if rng.random() < 0.4 else rng.choice([x for x in COARSE_CLASSES if x != "Head"])
        recs.append({"video_name": f"clip_{c:04d}", "task": "CMAR", "qid": f"CMAR_{c:05d}",
                     "question": "Which body region does this micro-action belong to?\n" +
                     "\n".join(f"{'ABCDEFG'[i]}. {x}" for i, x in enumerate(classes)),
                     "answer": "ABCDEFG"[classes.index(right)]})
    res = audit(load_benchmark(_write(tmp_path, recs)), seed=0)
    b = res.blind["CMAR"]
    assert abs(b.label_only - 0.4) < 0.06
    assert b.leak > 0.15 and abs(b.blind - b.label_only) < 0.06  # the whole leak is the label distribution
    assert f"CMAR: a model that knows only how often each label was the answer (in the other folds) scores " \
           f"{100 * b.label_only:.1f}%" in audit_markdown(res)


def test_a_label_only_model_sees_what_a_five_option_task_gives_away(planted, tmp_path):
    """FMAR shows 5 of 52 labels: the most common answer can be rare and the labels still give the answer
    away. The planted set answers only with 15 labels (the longest); even answers over all labels give
    nothing."""
    planted_res = audit(load_benchmark(planted), seed=0)
    fmar = planted_res.blind["FMAR"]
    assert fmar.label_only > 0.6
    assert "FMAR: a model that knows only how often each label was the answer" in audit_markdown(planted_res)
    even = audit(load_benchmark(_write(tmp_path, planted_records(240, seed=1, plant=False), "even.json")), seed=0)
    assert even.blind["FMAR"].label_only < 0.3 and even.blind["CMAR"].label_only < 0.22
