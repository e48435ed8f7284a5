"""`mabench build` on rendered synthetic clips: captions, QA, QC, corpus, split, bad input, rewrite, Ray."""

import csv
import json
import random
import re
import shutil
from collections import Counter

import pytest
from typer.testing import CliRunner

from mabench.builder.askable import QA_MARGIN
from mabench.builder.captions import caption, check_rewrite
from mabench.builder.cues import CONFUSABLE
from mabench.builder.qc import qc_report
from mabench.builder.questions import OPPOSITE, SPECS, TEMPLATES
from mabench.builder.questions.recognition import fmar_distractors
from mabench.builder.questions.sad import MIDLINE_SIDE
from mabench.cli import app
from mabench.data import load_benchmark
from mabench.motion.annotate import read_descriptors
from mabench.motion.signals import MOVES_AT, SIGNALS, STILL_UNDER
from mabench.synth.generate import write_set
from mabench.taxonomy import FINE_LABELS, FINE_TO_COARSE, MARE_LABEL_LINE, PHASES, TASKS

N_CLIPS = 14


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthset")
    write_set(root, N_CLIPS, seed=3, workers=2, subjects=4, min_s=1.5, max_s=2.5)
    return root


@pytest.fixture(scope="module")
def built(synth_set, tmp_path_factory):
    out = tmp_path_factory.mktemp("built")
    r = CliRunner().invoke(app, ["build", str(synth_set / "clips"), "--labels", str(synth_set / "labels.csv"),
                                 "--skeletons", str(synth_set / "skeletons"), "--out", str(out),
                                 "--test-fraction", "0.5", "--workers", "2", "--seed", "1"])
    assert r.exit_code == 0, r.output
    return out, r.output


def test_build_outputs_a_benchmark_the_evaluator_takes(built, synth_set, tmp_path):
    out, output = built
    assert "built" in output and "benchmark" in output
    bench = load_benchmark(out / "benchmark.json")
    assert bench.has_answers and len(bench) > 0
    records = json.loads((out / "benchmark.json").read_text())
    assert all(set(r) == {"video_name", "task", "qid", "question", "answer", "meta"} for r in records)
    per_clip = {}
    for r in records:
        per_clip.setdefault(r["video_name"], []).append(r["task"])
    assert all(t.count("CMAR") == 1 and t.count("FMAR") == 1 and t.count("MADU") == 1 and t.count("MARE") == 1
               for t in per_clip.values())
    assert sum(len(t) for t in per_clip.values()) >= 11 * len(per_clip)  # a clip may lack one relational fact
    r = CliRunner().invoke(app, ["info", str(out / "benchmark.json")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["eval", str(out / "benchmark.json"), "--videos", str(synth_set / "clips"),
                                 "--model", "random", "--out", str(tmp_path / "run"), "--no-progress"])
    assert r.exit_code == 0, r.output
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["tasks"]["CMAR"]["answered"] == len(per_clip) and not scores["failed_clips"]
    # MARE references end with the label line, in the benchmark's own format
    for rec in records:
        if rec["task"] == "MARE":
            fine = rec["meta"]["label"]
            line = MARE_LABEL_LINE.format(coarse=FINE_TO_COARSE[fine], fine=fine[0].upper() + fine[1:])
            assert rec["answer"].endswith(line)


def test_split_is_subject_disjoint_and_corpus_formats(built):
    out, _ = built
    split = json.loads((out / "split.json").read_text())
    assert split["by"] == "subject" and not set(split["test_subjects"]) & set(split["train_subjects"])
    assert not set(split["train"]) & set(split["test"])
    test_videos = {r["video_name"] for r in json.loads((out / "benchmark.json").read_text())}
    corpus = [json.loads(line) for line in (out / "corpus" / "chat.jsonl").read_text().splitlines()]
    assert corpus and not {s["clip"] for s in corpus} & test_videos
    s = corpus[0]
    assert [m["role"] for m in s["messages"]] == ["system", "user", "assistant"]
    assert s["messages"][1]["content"][0]["type"] == "video"
    lf = json.loads((out / "corpus" / "llamafactory.json").read_text())
    info = json.loads((out / "corpus" / "dataset_info.json").read_text())
    assert lf[0]["messages"][0]["content"].startswith("<video>") and len(lf) == len(corpus)
    assert lf[0]["system"] == s["messages"][0]["content"]
    assert info["mabench_train"]["formatting"] == "sharegpt" and info["mabench_train"]["columns"]["videos"] == "videos"
    qwen = json.loads((out / "corpus" / "qwen.json").read_text())
    assert qwen[0]["conversations"][0]["from"] == "human" and qwen[0]["video"] == corpus[0]["video"]
    manifest = json.loads((out / "corpus" / "manifest.json").read_text())
    assert manifest["samples"] == len(corpus) and len(manifest["sha256"]) == 64
    assert (out / "qc.md").exists() and json.loads((out / "qc.json").read_text())["passed"]["no_leakage"]


def test_every_closed_answer_follows_its_measured_fact(built):
    """The answer of each Yes/No question is re-derived from the clip's descriptor record via meta."""
    out, _ = built
    descs = {k.rsplit(".", 1)[0]: v for k, v in read_descriptors(out).items()}
    records = json.loads((out / "benchmark.json").read_text())
    checked = 0
    for q in records:
        m, d = q["meta"], descs[q["video_name"]]
        if m["kind"] == "direction" and m["direction"] in OPPOSITE:
            got = d["parts"][m["parts"][0]]["phases"][m["phase"]][m["axis"]]
            assert (got == m["direction"]) == (q["answer"] == "Yes"), q
            checked += 1
        elif m["kind"] == "pair trend":
            got = d["pairs"][f"{m['parts'][0]}|{m['parts'][1]}"]["phases"][m["phase"]]["trend"]
            assert (got == m["direction"]) == (q["answer"] == "Yes"), q
            checked += 1
        elif m["kind"] == "amplitude":
            a, b = (d["parts"][p]["amplitude"] for p in m["parts"])
            assert (a > b) == (q["answer"] == "Yes") and max(a, b) >= 1.5 * min(a, b), q
            checked += 1
        elif m["kind"] == "direction2":
            ph = d["parts"][m["parts"][0]]["phases"][m["phase"]]
            assert ([ph["vertical"], ph["horizontal"]] == m["directions"]) == (q["answer"] == "Yes"), q
            checked += 1
        elif m["kind"] == "main direction":
            labs = {d["parts"][m["parts"][0]]["phases"][p][m["axis"]] for p in PHASES}
            assert (m["direction"] in labs) == (q["answer"] == "Yes") and OPPOSITE[m["direction"]] not in labs \
                or (q["answer"] == "No" and m["direction"] not in labs), q
            checked += 1
        elif m["kind"] == "midline":
            ph = d["parts"][m["parts"][0]]["phases"][m["phase"]]
            assert abs(ph["x_from_midline"]) >= MIDLINE_SIDE and (ph["x_from_midline"] > 0) == (
                (m["direction"] == "leftward") == (m["relation"] == "toward")), q
            assert (ph["horizontal"] == m["direction"]) == (q["answer"] == "Yes"), q
            checked += 1
        elif m["kind"] == "stillness":
            assert d["parts"][m["parts"][0]]["moving"] == (q["answer"] == "Yes"), q
            checked += 1
        elif m["kind"] == "rotation":  # how far the signal went that way and stood on that side, in its floors
            sig = d["signals"][m["signal"]]
            k = 0 if m["direction"] == SIGNALS[m["signal"]].pos.split()[-1] else 1
            went, side = sig["travel"][k] / sig["floor"], (sig["level"][1], -sig["level"][0])[k] / sig["floor"]
            if q["answer"] == "Yes":
                assert went >= QA_MARGIN * MOVES_AT and side >= MOVES_AT and sig["rhythm"] == "single", q
            else:
                assert went <= STILL_UNDER / QA_MARGIN and side <= STILL_UNDER, q
            checked += 1
    assert checked >= 10


def test_closed_answers_agree_with_the_generators_truth(built, synth_set):

    from mabench.builder.questions.truth_check import expected, with_signals

    out, _ = built
    truths = {p.stem: json.loads(p.read_text()) for p in (synth_set / "truth").glob("*.json")}
    for t in truths.values():
        with_signals(t["facts"])  # a head that turns moves, as the descriptors read it
    checked = agree = 0
    for q in json.loads((out / "benchmark.json").read_text()):
        if TASKS[q["task"]].closed:
            want = expected(q, truths[q["video_name"]])
            if want is not None:
                checked += 1
                agree += want == q["answer"]
    assert checked >= 35 and agree / checked >= 0.95  # the rest sit inside the truth's own margins


def test_rerun_resumes(built, synth_set):
    out, _ = built
    before = (out / "benchmark.json").read_text()
    r = CliRunner().invoke(app, ["build", str(synth_set / "clips"), "--labels", str(synth_set / "labels.csv"),
                                 "--skeletons", str(synth_set / "skeletons"), "--out", str(out),
                                 "--test-fraction", "0.5", "--seed", "1"])
    assert r.exit_code == 0, r.output
    assert f"0 new, {N_CLIPS} already done" in r.output
    assert (out / "benchmark.json").read_text() == before  # seeded: the same benchmark again


def test_bad_labels_name_the_row_and_the_rest_is_built(synth_set, tmp_path):
    rows = list(csv.DictReader((synth_set / "labels.csv").open()))
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["video", "fine_label", "subject_id"])
        w.writerow([rows[0]["clip"], "dancing", "S1"])                       # row 2: unknown label
        w.writerow(["missing_clip.mp4", "nodding", "S1"])                    # row 3: no such clip
        w.writerow([rows[1]["clip"][:-4], "B1", "S2"])                       # row 4: code, no suffix: fine
        w.writerow([rows[2]["clip"], rows[2]["label"].upper(), "S3"])        # row 5: any case: fine
        w.writerow([rows[2]["clip"], "nodding", "S3"])                       # row 6: duplicate
        w.writerow([rows[3]["clip"], "Z9", "S4"])                            # row 7: unknown code
    r = CliRunner().invoke(app, ["build", str(synth_set / "clips"), "--labels", str(labels), "--skeletons",
                                 str(synth_set / "skeletons"), "--out", str(tmp_path / "o"), "--no-flow",
                                 "--test-fraction", "1", "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert "row 2: unknown label 'dancing'" in r.output
    assert "1 of 3 listed clips not found in" in r.output and "missing_clip.mp4 (row 3)" in r.output
    assert "row 6:" in r.output and "already labelled on row 5" in r.output
    assert "row 7: unknown label 'Z9'" in r.output
    assert "for 2 of 3 labelled clips" in r.output or "for 2 of" in r.output
    labels_used = {q["meta"]["label"] for q in json.loads((tmp_path / "o" / "benchmark.json").read_text())
                   if q["task"] == "FMAR"}
    assert labels_used == {"nodding", rows[2]["label"]}
    bad = tmp_path / "bad.csv"
    bad.write_text("name,what\nx,y\n")
    r = CliRunner().invoke(app, ["build", str(synth_set / "clips"), "--labels", str(bad), "--skeletons",
                                 str(synth_set / "skeletons"), "--out", str(tmp_path / "o2")])
    assert r.exit_code == 2 and "needs a header with a clip column" in r.output


def _phases(**dirs):
    """Phase records of one part: vertical direction per phase (early/middle/late), cleared by far."""
    return {ph: {"dx": 0.0, "dy": {"upward": 0.5, "downward": -0.5}.get(d, 0.0), "margin": 0.09, "vertical": d,
                 "horizontal": "none"} for ph, d in dirs.items()}


def test_phase_order_facts_need_the_later_part_still_until_its_phase():
    from mabench.builder.questions.mas import mas_facts
    from mabench.builder.questions.render import render

    desc = {"ranking": ["left hand", "head"], "order": [], "phase_edges": [0.0, 1.0, 2.0, 3.0],
            "parts": {"left hand": {"visible": True, "phases": _phases(early="upward", middle="none", late="none")},
                      "head": {"visible": True, "phases": _phases(early="none", middle="none", late="downward")}}}
    facts = [f for f in mas_facts(desc) if f.family == "MAS_PHASE"]
    assert {(f.fields["a"], f.fields["dir_a"], f.fields["b"], f.fields["dir_b"], f.answer) for f in facts} == {
        ("left hand", "upward", "head", "downward", "Yes"), ("head", "downward", "left hand", "upward", "No")}
    # only wordings that name both movements: "did the head begin moving before ..." would ask about onsets
    for text, template, _ in render(facts[0], "MAS_DIR", "MAS", desc, random.Random(0)):
        assert "{dir_a}" in template and "{dir_b}" in template, text
    # the later part already drifting that way earlier, under its threshold (0.054 of 0.09, called "none"):
    # its movement may have begun first, so no order is stated
    desc["parts"]["head"]["phases"]["early"]["dy"] = -0.054
    assert not [f for f in mas_facts(desc) if f.family == "MAS_PHASE"]
    desc["parts"]["head"]["phases"]["early"]["dy"] = 0.03  # drifting the other way: no doubt about the order
    assert [f for f in mas_facts(desc) if f.family == "MAS_PHASE"]
    # an onset order that has the later part start first rules it out
    desc["order"] = [{"a": "head", "b": "left hand", "relation": "before", "gap_s": 0.4}]
    assert not [f for f in mas_facts(desc) if f.family == "MAS_PHASE"]
    desc["order"] = []
    # the earlier part making the same movement again in the later phase: no order either
    desc["parts"]["left hand"]["phases"]["late"].update(vertical="upward", dy=0.5)
    assert not [f for f in mas_facts(desc) if f.family == "MAS_PHASE"]


def test_a_part_that_never_moves_began_no_movement_in_any_direction():
    from mabench.builder.questions.mas import STILL_DIRECTIONS, _still_first
    from mabench.builder.questions.render import render

    still = {"visible": True, "moving": False, "amplitude": 0.001, "phases": _phases(early="none", middle="none",
                                                                                        late="none")}
    mover = {"visible": True, "moving": True, "amplitude": 0.4, "phases": _phases(early="upward", middle="none",
                                                                                  late="none")}
    desc = {"ranking": ["left hand"], "order": [], "phase_edges": [0.0, 1.0, 2.0, 3.0],
            "parts": {"left hand": mover, "left foot": still}}
    facts = _still_first(desc, ["left foot"])
    assert all(f.answer == "No" and f.fields["a"] == "left foot" and f.fields["b"] == "left hand" for f in facts)
    # every direction for the still part, with the mover's direction named (twice each: with and without it)
    assert sorted(f.fields.get("dir_a", "-") for f in facts) == sorted(("-", *STILL_DIRECTIONS * 2))
    assert all(f.fields.get("dir_b", "upward") == "upward" for f in facts)  # the mover's true first direction
    named = [f for f in facts if "dir_a" in f.fields]
    rendered = [(t, tpl) for f in named for w in ("MAS_DIR", "MAS_DIR1") for t, tpl, _ in render(f, w, "MAS", desc,
                                                                                             random.Random(0))]
    assert rendered and all("left foot" in t for t, _ in rendered)
    assert all("upward" in t for t, tpl in rendered if "{dir_b}" in tpl)
    # asked only in wordings that name the still part's direction (else they repeat the direction-less fact)
    assert all("{dir_a}" in tpl for _, tpl in rendered)
    assert {"{dir_b}" in tpl for _, tpl in rendered} == {True, False}  # with the mover's direction and without
    # a mover without a clear first direction: none is made up for it
    desc["parts"]["left hand"] = {**mover, "phases": _phases(early="none", middle="none", late="none")}
    assert [f.fields for f in _still_first(desc, ["left foot"])] == [{"a": "left foot", "b": "left hand"}] + [
        {"a": "left foot", "b": "left hand", "dir_a": d} for d in STILL_DIRECTIONS]


def test_order_questions_name_the_directions_each_part_has():
    """MA-Bench names a direction in nine of ten order questions: an onset order asks with both parts' first
    directions, or the one part's that has one; two parts that start together started neither first."""
    from mabench.builder.questions.mas import mas_facts
    from mabench.builder.questions.render import render

    up = {"visible": True, "moving": True, "amplitude": 0.4, "onset": 0.3,
          "phases": _phases(early="upward", middle="none", late="none")}
    vague = {**up, "onset": 1.1, "phases": _phases(early="none", middle="none", late="none")}
    desc = {"ranking": ["left hand", "head"], "phase_edges": [0.0, 1.0, 2.0, 3.0],
            "order": [{"a": "left hand", "b": "head", "relation": "before", "gap_s": 0.8}],
            "parts": {"left hand": up, "head": vague}}
    named = [f for f in mas_facts(desc) if f.family == "MAS_DIR"]
    assert {(f.fields["a"], f.fields.get("dir_a"), f.fields.get("dir_b"), f.answer) for f in named} == {
        ("left hand", "upward", None, "Yes"), ("head", None, "upward", "No")}
    for f in named:  # the direction it has is said, and only templates naming that part's direction are used
        got = [(t, tpl) for w in ("MAS_DIR", "MAS_DIR1") for t, tpl, _ in render(f, w, "MAS", desc, random.Random(0))]
        assert got and all("upward" in t for t, _ in got)
        assert all(("{dir_a}" in tpl) == ("dir_a" in f.fields) and ("{dir_b}" in tpl) == ("dir_b" in f.fields)
                   for _, tpl in got)
        assert {tpl for _, tpl in got} == {tpl for tpl in TEMPLATES["MAS_DIR1"]
                                          if ("{dir_a}" in tpl) == ("dir_a" in f.fields)}
    # the first part's stated direction comes a phase after its onset (it set off without one, say a nod, then
    # went up): "did the left hand begin moving upward before the head?" is not what the onsets measured
    desc["parts"]["left hand"] = {**up, "phases": _phases(early="none", middle="upward", late="none")}
    named = [f for f in mas_facts(desc) if f.family == "MAS_DIR"]
    assert named == []  # the head has no direction, the left hand none it set off in
    # the later part may be named by its first direction whenever it began (it cannot precede its onset)
    desc["parts"]["head"] = {**vague, "phases": _phases(early="none", middle="none", late="downward")}
    named = [f for f in mas_facts(desc) if f.family == "MAS_DIR"]
    assert {(f.fields["a"], f.fields.get("dir_a"), f.fields.get("dir_b"), f.answer) for f in named} == {
        ("left hand", None, "downward", "Yes"), ("head", "downward", None, "No")}
    desc["parts"]["left hand"] = up
    desc["order"] = [{"a": "left hand", "b": "head", "relation": "simultaneous", "gap_s": 0.0}]
    desc["parts"]["head"] = {**vague, "onset": 0.3}
    named = [f for f in mas_facts(desc) if f.family == "MAS_DIR"]
    assert sorted((f.fields["a"], f.answer) for f in named) == [("head", "No"), ("left hand", "No")]
    # starting together, each is named only by the direction it set off in: the head's late "downward" is not
    assert all(f.fields.get("dir_a" if f.fields["a"] == "left hand" else "dir_b") == "upward" and
               "downward" not in f.fields.values() for f in named)
    # together by the descriptors (under 0.2 s) but 0.19 s apart: too near an order to say neither came first
    desc["order"][0]["gap_s"] = 0.19
    assert not [f for f in mas_facts(desc) if f.family in ("MAS", "MAS_DIR")]


def test_facts_that_ask_the_same_question_with_two_answers_are_both_dropped():
    from mabench.builder.questions.common import Fact, one_per_question

    f = {"a": "head", "b": "right hand", "dir_a": "downward", "dir_b": "upward"}
    yes, no = Fact("MAS_DIR", f, "Yes", {"kind": "order"}), Fact("MAS_PHASE", dict(f), "No", {"kind": "sequence"})
    other = Fact("MAS_DIR", {**f, "dir_b": "leftward"}, "Yes", {"kind": "order"})
    assert one_per_question([yes, no, other]) == [other]


def test_an_order_the_phases_tell_as_well_is_one_fact_not_two():
    from mabench.builder.questions.balance import fact_id
    from mabench.builder.questions.common import Fact, one_per_question

    f = {"a": "head", "b": "right hand", "dir_a": "downward", "dir_b": "upward"}
    onset = Fact("MAS_DIR", f, "Yes", {"kind": "order", "parts": ["head", "right hand"]})
    by_phase = Fact("MAS_PHASE", dict(f), "Yes", {"kind": "sequence", "parts": ["head", "right hand"],
                                                   "phase": "early/late"})
    other = Fact("MAS_PHASE", {**f, "dir_b": "leftward"}, "Yes", {"kind": "sequence", "parts": ["head", "right hand"]})
    assert fact_id(onset) != fact_id(by_phase)  # by their ids, `pick` would ask both in one clip
    assert one_per_question([onset, by_phase, other]) == [onset, other]


def test_a_fact_another_task_asks_is_taken_only_when_nothing_else_serves():
    from mabench.builder.questions.balance import Balancer, fact_id, pick
    from mabench.builder.questions.common import Fact

    desc = {"phase_edges": [0.0, 1.0, 2.0, 3.0]}

    def trend(a, b):
        return Fact("PPR", {"A": a, "B": b, "phase": "early"}, "Yes",
                    {"kind": "pair trend", "parts": [a.lower(), b.lower()], "phase": "early"})

    shared, other = trend("Left Hand", "Head"), trend("Right Hand", "Torso")
    for seed in range(10):  # whatever the balancer's noise
        got = pick("PPR", desc, [shared, other], Balancer(random.Random(seed)), random.Random(seed), 1,
                   asked={fact_id(shared)})
        assert [a.fact for a in got] == [other]
    got = pick("PPR", desc, [shared], Balancer(random.Random(0)), random.Random(0), 1, asked={fact_id(shared)})
    assert [a.fact for a in got] == [shared]  # the only fact left: asked again rather than a short clip


def test_a_two_axis_movement_is_named_by_one_axis_only_where_answers_are_about_order():
    from mabench.builder.questions.render import dir_phrase

    rng = random.Random(0)
    mas = Counter(dir_phrase("upward+leftward", rng, "MAS") for _ in range(400))
    # both halves alone and the pair, each true of a movement up and to the left
    assert set(mas) <= {"upward", "leftward", "to the left", "upward and leftward", "leftward and upward",
                        "upward and to the left", "to the left and upward"}
    alone = mas["upward"] + mas["leftward"] + mas["to the left"]
    assert 0.4 < alone / 400 < 0.6 and mas["upward"] and (mas["leftward"] + mas["to the left"])
    # SAD's answer can hinge on the second axis ("up and to the right? No"): always both there
    assert all(" and " in dir_phrase("upward+leftward", rng, "SAD") for _ in range(200))


def test_a_second_question_about_the_same_limbs_is_the_one_avoided():
    from mabench.builder.questions.common import Fact, limbs

    def about(*parts):
        return Fact("MAS", {}, "No", {"parts": list(parts)})

    assert limbs(about("left hand", "head")) == limbs(about("head", "left lower arm")) == ("head", "left arm")
    assert limbs(about("left foot", "torso")) == limbs(about("left upper leg", "torso"))
    assert limbs(about("left hand", "head")) != limbs(about("right hand", "head"))


def test_a_direction_before_a_noun_says_leftward_not_to_the_left():
    from mabench.builder.questions.common import Fact
    from mabench.builder.questions.render import render

    f = Fact("MAS_DIR", {"a": "head", "b": "left hand", "dir_a": "leftward", "dir_b": "rightward+upward"}, "No")
    seen = set()
    for seed in range(60):  # "to the left" is drawn now and then: where it reads, and never before "motion"
        for text, _, _ in render(f, "MAS_DIR", "MAS", {"phase_edges": None}, random.Random(seed)):
            seen |= {"to the" in text}
            assert not re.search(r"to the (left|right)(?: and \w+)? (motion|movement|shift)", text), text
            assert not re.search(r"(its|'s) (\w+ and )?to the", text), text
    assert seen == {True, False}
    # and the article agrees with the direction put after it
    f = Fact("MAD_WHILE", {"a": "head", "b": "left hand", "dir_a": "leftward", "dir_b": "upward", "phase": "early"},
             "No")
    texts = [t for seed in range(5) for t, _, _ in render(f, "MAD_WHILE", "MAD", {"phase_edges": None},
                                                       random.Random(seed))]
    assert any("an upward" in t for t in texts) and not any(re.search(r"\ba upward\b", t) for t in texts)


def test_every_wording_has_templates_and_a_share_of_its_task():
    for task, spec in SPECS.items():
        wordings = {w for ws in spec.wording.values() for w in ws}
        assert wordings <= set(spec.templates) and set(spec.mix) == wordings, task
        assert abs(sum(spec.mix.values()) - 1.0) < 0.01, task


def test_templates_and_fmar_distractors():
    for family, texts in TEMPLATES.items():
        assert len(set(texts)) >= 5, family
    rng = random.Random(0)
    confusable, same_counts = [], Counter()
    for fine in FINE_LABELS:
        for _ in range(20):
            d = fmar_distractors(fine, rng)
            assert len(set(d)) == 4 and fine not in d and set(d) <= set(FINE_LABELS)
            same_counts[sum(FINE_TO_COARSE[x] == FINE_TO_COARSE[fine] for x in d)] += 1
            confusable.append(CONFUSABLE[fine] in d)
    # as MA-Bench: the number of same-class distractors varies, the confusable label is there about a third
    assert len(same_counts) >= 4 and 0.25 <= sum(confusable) / len(confusable) <= 0.45


def test_caption_texts_and_the_rewrite_fact_check(built):
    out, _ = built
    desc = next(iter(read_descriptors(out).values()))
    c = caption(desc, "touching nose", seed=0)
    assert c.mare.endswith(MARE_LABEL_LINE.format(coarse="Head-hand", fine="Touching nose"))
    assert "covering mouth" in c.mare.lower()  # the exclusion step names the nearest neighbour
    template = "In the early phase, the right hand moves upward. It is touching nose.\n" + \
        MARE_LABEL_LINE.format(coarse="Head-hand", fine="Touching nose")
    ok = "Early on (early phase), the right hand rises upward; touching nose.\n" + \
        MARE_LABEL_LINE.format(coarse="Head-hand", fine="Touching nose")
    assert check_rewrite(template, ok, c) is None
    assert re.match(r"(drops|adds) directions", check_rewrite(template, ok.replace("upward", "downward"), c))
    assert "drops parts" in check_rewrite(template, ok.replace("right hand", "hand"), c)
    assert "adds parts" in check_rewrite(template, ok.replace("nose.\n", "nose. The head stays still.\n", 1), c)
    assert "label line" in check_rewrite(template, ok.split("\n")[0] + " touching nose head-hand", c)


def test_rewrite_through_a_real_server(built):
    from mabench.builder.rewrite import rewrite_captions
    from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

    out, _ = built
    descs = list(read_descriptors(out).values())[:3]
    reasons = []
    for mode, accepted in (("faithful", 6), ("flip", None), ("drop", None)):
        caps = [caption(d, "nodding") for d in descs]
        templates = [(c.madu, c.mare) for c in caps]
        with FakeOpenAIServer(Behaviour(model="writer", rewrite=mode)) as srv:
            res = rewrite_captions(caps, "openai:writer", srv.base_url)
        if accepted:
            assert res.accepted == accepted and all(c.madu.startswith("As the video shows") for c in caps)
        else:
            # a flipped direction or a dropped sentence is rejected; the template text is kept
            assert res.rejected >= 3 and res.accepted + res.rejected == 6
            kept = [c for c in caps if c.rewrite["madu"]["status"] == "rejected"]
            assert all(c.madu == t[0] for c, t in zip(caps, templates, strict=True) if c in kept)
            reasons += [c.rewrite[k].get("reason", "") for c in caps for k in ("madu", "mare")]
    assert any(re.search(r"(drops|adds) ", r) for r in reasons), reasons


def test_qc_flags_leakage_duplicates_and_imbalance():
    recs = [
        {"video_name": "a", "task": "SAD", "qid": "SAD_0", "question": "During the nodding, does the head move up?",
         "answer": "Yes"},
        {"video_name": "a", "task": "SAD", "qid": "SAD_1", "question": "During the nodding, does the head move up?",
         "answer": "Yes"},
    ]
    rep = qc_report(recs)
    assert rep["leakage"] and rep["duplicates"] and rep["passed"]["yes_no_balance"] is False
    assert rep["passed"]["twelve_per_clip"] is False


def test_qc_judges_mad_yes_share_around_its_centre():
    """MAD is balanced around its spec's `yes_centre` (47%), so QC judges its Yes share there: 43% is fine for MAD and
    not for SAD, 54% the reverse."""
    from mabench.builder.qc import YES_NO_TOLERANCE

    def share(task: str, yes: int) -> dict:
        recs = [{"video_name": f"v{i}", "task": task, "qid": f"{task}_{i}", "question": f"q {i}?",
                 "answer": "Yes" if i < yes else "No"} for i in range(100)]
        return qc_report(recs)["balance"][task]

    assert abs(0.43 - SPECS["MAD"].yes_centre) <= YES_NO_TOLERANCE < abs(0.43 - 0.5)
    assert share("MAD", 43)["ok"] and not share("SAD", 43)["ok"]
    assert not share("MAD", 54)["ok"] and share("SAD", 54)["ok"]
    assert share("MAD", 43)["target"] == SPECS["MAD"].yes_centre


def test_blind_check_through_the_eval_runner(built, tmp_path):
    from mabench.builder.pipeline import blind_check
    from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

    out, _ = built
    work = tmp_path / "b"
    work.mkdir()
    shutil.copy(out / "benchmark.json", work / "benchmark.json")
    records = json.loads((work / "benchmark.json").read_text())
    # "blindly" right: the server knows the answer of each SAD / CMAR text asked once (the same words in two
    # clips can have two answers: that is the point of the wording)
    texts = Counter(r["question"] for r in records)
    known = [r for r in records if r["task"] in ("SAD", "CMAR") and texts[r["question"]] == 1]
    key = {r["question"]: r["answer"] for r in known}
    with FakeOpenAIServer(Behaviour(model="blindy", key=key)) as srv:
        rep = blind_check(work, "openai:blindy", srv.base_url, runs=2)
    flagged = set(rep["blind"]["flagged"])
    assert len(known) >= 10 and {r["qid"] for r in known} <= flagged
    assert rep["blind"]["runs"] == 2 and "Blind check" in (work / "qc.md").read_text()


def test_ray_executor_with_a_local_instance(synth_set, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    out = tmp_path / "ray"
    r = CliRunner().invoke(app, ["build", str(synth_set / "clips"), "--labels", str(synth_set / "labels.csv"),
                                 "--skeletons", str(synth_set / "skeletons"), "--out", str(out), "--no-flow",
                                 "--executor", "ray", "--workers", "2", "--test-fraction", "1"])
    assert r.exit_code == 0, r.output
    assert f"descriptors: {N_CLIPS} new" in r.output
    assert len(read_descriptors(out)) == N_CLIPS


def test_build_cli_with_rewrite_keeps_only_faithful_rewrites(synth_set, tmp_path):
    from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

    for mode, status in (("faithful", "accepted"), ("flip", "rejected")):
        out = tmp_path / mode
        with FakeOpenAIServer(Behaviour(model="writer", rewrite=mode)) as srv:
            r = CliRunner().invoke(app, ["build", str(synth_set / "clips"), "--labels", str(synth_set / "labels.csv"),
                                         "--skeletons", str(synth_set / "skeletons"), "--out", str(out), "--no-flow",
                                         "--test-fraction", "1", "--workers", "1", "--rewrite", "openai:writer",
                                         "--base-url", srv.base_url])
        assert r.exit_code == 0, r.output
        caps = [json.loads(x) for x in (out / "captions.jsonl").read_text().splitlines()]
        statuses = {c["rewrite"]["madu"]["status"] for c in caps}
        madu = {q["video_name"]: q["answer"] for q in json.loads((out / "benchmark.json").read_text())
                if q["task"] == "MADU"}
        if status == "accepted":
            assert statuses == {"accepted"} and all(a.startswith("As the video shows") for a in madu.values())
        else:  # swapping up and down flips facts wherever a vertical movement is stated
            assert "rejected" in statuses and not any(a.startswith("As the video shows") for a in madu.values())
    r = CliRunner().invoke(app, ["build", str(synth_set / "clips"), "--labels", str(synth_set / "labels.csv"),
                                 "--skeletons", str(synth_set / "skeletons"), "--out", str(tmp_path / "x"),
                                 "--rewrite", "openai:writer"])
    assert r.exit_code == 2 and "--base-url" in r.output


def test_qc_gate_fails_on_leak_style_and_short_clips():
    from mabench.builder.qc import LEAK_GATE, qc_gate

    ok = {"status": "ok", "leak": 1.0, "leak_ci": [-4.0, 6.0]}
    rep = {"clips_with_fewer_than_12": 0, "audit": {"all_built": {"leak": {"SAD": ok, "MAS": dict(ok)}}}}
    assert qc_gate({**rep, "audit": {**rep["audit"], "style_auc": {"SAD": 0.999}}}) == {"passed": True, "failures": []}
    rep["clips_with_fewer_than_12"], rep["short_clips_without_motion"] = 1, ["still_clip"]
    assert qc_gate(rep)["passed"]  # a clip without measured motion may be short
    rep["audit"]["all_built"]["leak"]["MAS"] = {"status": "ok", "leak": LEAK_GATE + 3, "leak_ci": [2.0, 14.0]}
    rep["clips_with_fewer_than_12"] = 3
    rep["audit"]["style_type_delta"] = {"SAD": {"type": "direction", "delta": 30.0, "allowed": 10.0}}
    gate = qc_gate(rep)
    assert not gate["passed"] and len(gate["failures"]) == 3
    assert any(f.startswith("MAS blind leak") for f in gate["failures"])
    # a large leak whose CI reaches 0 (a handful of clips) is noise, not a failure
    rep = {"audit": {"benchmark": {"leak": {"PPR": {"status": "ok", "leak": 9.0, "leak_ci": [-3.0, 20.0]}}}}}
    assert qc_gate(rep)["passed"]


def test_phase_words_come_from_the_taxonomy():
    from mabench.audit.slots import PHASE_WORDS
    from mabench.builder.questions.render import PHASE_WORD_WEIGHTS
    from mabench.taxonomy import INITIAL_FINAL, PHASE_OF_WORD, PHASE_SYNONYMS

    assert all(set(w) <= set(PHASE_SYNONYMS[ph]) for ph, w in PHASE_WORD_WEIGHTS.items())
    assert set(PHASE_WORDS) == set(PHASE_OF_WORD) and all(PHASE_OF_WORD[w] == ph for ph, w in INITIAL_FINAL.items())


def test_fmar_distractors_are_labels_that_are_answers_in_the_build():
    """A build over some of the labels (the synthetic figure renders 34 of 52): a label that is never the answer
    is never a distractor, which a text-only model would otherwise learn to rule out, and no label is the
    answer of much more than its share of the questions it appears in."""
    rng = random.Random(1)
    labels = [*FINE_LABELS[::3], FINE_LABELS[1]]
    weights = {f: 1 / len(labels) for f in labels}
    seen, right = Counter(), Counter()
    for _ in range(40):
        for fine in labels:
            d = fmar_distractors(fine, rng, weights)
            assert len(set(d)) == 4 and fine not in d and set(d) <= set(labels)
            seen.update([fine, *d])
            right[fine] += 1
    rates = [right[f] / seen[f] for f in labels]
    assert max(rates) < 0.3 and min(rates) > 0.12, sorted(rates)


def test_the_pull_toward_yes_of_a_task_that_cannot_be_even_is_capped():
    """MAS cannot reach 50% Yes (one moving part: only true Noes). Its pull toward Yes stops growing at
    SPECS["MAS"].pull_cap questions of imbalance, so it cannot outweigh evening out each wording; other tasks keep
    the full pull."""
    from mabench.builder.questions.balance import Balancer

    bal = Balancer(random.Random(0))
    for task in ("MAS", "SAD", "MAD"):
        bal.yes_no[task]["No"] = 500
    q = ("In this action, does the head move upward?", "template")

    def pull(task):
        wording = next(iter(TEMPLATES))
        return bal.score(task, wording, q[1], "Yes", q[0]) - bal.score(task, wording, q[1], "No", q[0])

    assert pull("MAS") == pytest.approx(-2 * SPECS["MAS"].w_task * SPECS["MAS"].pull_cap)
    assert pull("SAD") == pytest.approx(-2 * SPECS["SAD"].w_task * 500)
    # MAD is pulled, uncapped, toward its fixed centre, not toward 50% (capped around its own rate, it slid)
    assert pull("MAD") == pytest.approx(-2 * SPECS["MAD"].w_task * 2 * SPECS["MAD"].yes_centre * 500)


def test_mad_is_balanced_around_its_fixed_centre():
    """MAD's "while" wording has too few true Yes to reach 50%: the task, each wording and each word are evened
    out around SPECS["MAD"].yes_centre instead, so a wording at that rate neither pulls toward Yes nor toward No."""
    from mabench.builder.questions.balance import Balancer

    c = SPECS["MAD"].yes_centre
    assert 0.4 <= c < 0.5
    bal = Balancer(random.Random(0))
    text, template = "While the head was moving upward, did the left hand move upward?", "t"
    for i in range(100):
        bal.take("MAD", "MAD_WHILE", template, "Yes" if i < round(100 * c) else "No", text)
    same = bal.score("MAD", "MAD_WHILE", template, "Yes", text) - bal.score("MAD", "MAD_WHILE", template, "No", text)
    assert same == pytest.approx(0.0, abs=1e-9)
    bal.take("MAD", "MAD_WHILE", template, "Yes", text)  # one Yes more: now a No is preferred
    assert bal.score("MAD", "MAD_WHILE", template, "Yes", text) > bal.score("MAD", "MAD_WHILE", template, "No", text)


def test_wordings_of_one_question_type_share_their_mix_deficit():
    """"Does A approach B" and "does A move away from B" are one distance question: one of them over its share
    counts against the other too, so the two together soak up no more of what the clips lack elsewhere than a
    single wording would (they came to 8.2-8.7% of MAD, MA-Bench's distance type is 3.6%)."""
    from mabench.builder.questions.balance import W_MIX, Balancer

    assert ("MAD_TOWARD", "MAD_AWAY") in SPECS["MAD"].shared_mix
    bal = Balancer(random.Random(0))
    bal.wording["MAD"].update({"MAD_WHILE": 94, "MAD_TOWARD": 6})
    text = "In the early segment, did the left hand move away from the head?"
    toward, away, amp = (bal.score("MAD", w, "t", "Yes", text) for w in ("MAD_TOWARD", "MAD_AWAY", "MAD_AMP"))
    assert away == pytest.approx(toward)  # away has asked none, but the pair is over its share
    share = SPECS["MAD"].mix["MAD_TOWARD"] + SPECS["MAD"].mix["MAD_AWAY"]
    assert away - amp == pytest.approx(W_MIX * (6 - share * 101) + W_MIX * SPECS["MAD"].mix["MAD_AMP"] * 101)


def test_a_part_named_mostly_with_yes_is_next_asked_with_no():
    """Parts carry answers: PPR named "upper leg" only with Yes while a part's few words were averaged among the
    question's others. A part's own Yes/No excess now counts in full (W_PART). Ten Yeses naming the leg pair and
    ten Noes naming the feet, in one wording, template and text, so that only the parts differ: a leg question
    leans to No, a feet question to Yes, by the same amount, and a question naming neither not at all."""
    from mabench.builder.questions.balance import W_PART, Balancer

    bal = Balancer(random.Random(0))
    leg, feet = ("right hand", "right upper leg"), ("left foot", "right foot")
    text = "In the early phase, does the part approach the other part?"
    for _ in range(10):
        bal.take("PPR", "PPR", "t", "Yes", text, leg)
        bal.take("PPR", "PPR", "t", "No", text, feet)

    def yes_minus_no(parts) -> float:
        return bal.score("PPR", "PPR", "t", "Yes", text, parts) - bal.score("PPR", "PPR", "t", "No", text, parts)

    # each leg part: 10 questions, all Yes, an excess of 2 x (10 - 5) = 10; each foot -10; Yes - No doubles it
    assert W_PART > 0
    assert yes_minus_no(leg) == pytest.approx(2 * W_PART * 10)
    assert yes_minus_no(feet) == pytest.approx(-2 * W_PART * 10)
    assert yes_minus_no(("head", "torso")) == pytest.approx(0.0)


def test_pick_counts_the_parts_of_what_it_asks():
    from mabench.builder.questions.balance import Balancer, pick
    from mabench.builder.questions.common import Fact

    f = Fact("PPR", {"A": "Left Hand", "B": "Head", "phase": "early"}, "Yes",
             {"kind": "pair trend", "parts": ["left hand", "head"], "phase": "early"})
    bal = Balancer(random.Random(0))
    [got] = pick("PPR", {"phase_edges": [0.0, 1.0, 2.0, 3.0]}, [f], bal, random.Random(0), 1)
    assert got.fact is f
    assert bal.asked[("PPR", "part:left hand")] == bal.asked[("PPR", "part:head")] == 1
    assert bal.yes[("PPR", "part:head")] == 1


def test_mad_words_are_centred_on_the_fixed_rate_not_the_running_one():
    """MAD's wording, template and word terms are centred on its spec's yes_centre even when the task's running Yes
    rate is elsewhere (here 23.5%): a wording, template and words at the centre add no pull, only the task does."""
    from mabench.builder.questions.balance import Balancer

    c = SPECS["MAD"].yes_centre
    bal = Balancer(random.Random(0))
    text, template = "While the head was moving upward, did the left hand move upward?", "t"
    for i in range(100):
        bal.take("MAD", "MAD_WHILE", template, "Yes" if i < round(100 * c) else "No", text)
    for _ in range(100):  # another wording, template and words, all No
        bal.take("MAD", "MAD_SAME", "u", "No", "zzz")
    diff = bal.score("MAD", "MAD_WHILE", template, "Yes", text) - bal.score("MAD", "MAD_WHILE", template, "No", text)
    assert diff == pytest.approx(2 * SPECS["MAD"].w_task * 2 * (round(100 * c) - c * 200))


def test_shared_mix_groups_and_yes_centres_are_well_formed():
    """A misspelt group member would silently count as share 0, a wording in two groups would lose one, and a task
    both at its running rate and at a fixed centre would mix the two."""
    seen: set = set()
    for task, spec in SPECS.items():
        for g in spec.shared_mix:
            assert len(g) > 1 and set(g) <= set(spec.mix), (task, g)
            assert not seen & {(task, w) for w in g}, (task, g)
            seen |= {(task, w) for w in g}
        assert 0 < spec.yes_centre < 1, task


def test_fmar_distractors_under_a_skewed_label_distribution_give_no_label_away():
    """Real label distributions are long-tailed. A model that knows only how often each label was the answer
    (learned on half the questions, options shuffled) must stay near chance (20%); drawing the confusable
    label and same-class labels whatever their weight let it reach 42% here."""
    rng = random.Random(0)
    labels = list(FINE_LABELS[:34])
    raw = [rng.random() ** 3 for _ in labels]
    weights = {f: r / sum(raw) for f, r in zip(labels, raw, strict=True)}
    qs = []
    for _ in range(4000):
        fine = rng.choices(labels, [weights[f] for f in labels])[0]
        opts = [fine, *fmar_distractors(fine, rng, weights)]
        rng.shuffle(opts)
        qs.append((fine, opts))
    answered = Counter(f for f, _ in qs[:2000])
    label_only = sum(max(opts, key=lambda o: answered[o]) == f for f, opts in qs[2000:]) / 2000
    assert label_only < 0.24, label_only


def test_an_order_question_records_the_directions_it_names_as_said():
    from mabench.builder.questions.balance import Balancer, pick
    from mabench.builder.questions.common import Fact

    f = Fact("MAS_DIR", {"a": "head", "b": "right hand", "dir_a": "downward", "dir_b": "upward+leftward"}, "Yes",
             {"kind": "order", "parts": ["head", "right hand"]})
    seen = set()
    for seed in range(40):
        [a] = pick("MAS", {"phase_edges": None}, [f], Balancer(random.Random(seed)), random.Random(seed), 1)
        named = _named_of(a)
        # what the question says, no more: a two-axis movement named by one axis is recorded by that axis
        for code in named.values():
            words = {"upward", "downward", "leftward", "rightward"} & set(re.findall(r"\w+ward", a.text))
            assert set(code.split("+")) <= words | {"leftward" if "to the left" in a.text else ""}, (a.text, named)
        assert named.get("head", "downward") == "downward"
        seen.add((a.wording, tuple(sorted(named.get("right hand", "").split("+")))))
    assert ("MAS_DIR", ("leftward", "upward")) in seen and ("MAS_DIR", ("upward",)) in seen  # whole and by half
    # a template that names one part's direction records that part's only
    from mabench.builder.questions.balance import Asked
    from mabench.builder.questions.render import render

    for text, t, said in render(f, "MAS_DIR1", "MAS", {"phase_edges": None}, random.Random(0)):
        named = _named_of(Asked(f, "MAS_DIR1", text, t, None, said))
        assert len(named) == 1 and ("{dir_a}" in t) == ("head" in named), (t, named)


def _named_of(asked):
    from mabench.builder.questions.assemble import named_directions

    return named_directions(asked).get("named_directions", {})


def test_questions_that_are_not_about_order_name_no_directions_to_check():
    from mabench.builder.questions.balance import Asked
    from mabench.builder.questions.common import Fact

    trend = Fact("PPR", {"A": "Head", "B": "Torso", "phase": "early"}, "Yes", {"kind": "pair trend"})
    assert _named_of(Asked(trend, "PPR", "", "Does the {A} approach the {B} {phase}?", None, {})) == {}


def test_built_order_questions_record_each_direction_they_name(built):
    """`bench/build_validate.py` checks an order question's named directions from `meta.named_directions`: it
    must hold each direction word the question says, on its part, and none it does not say."""
    out, _ = built
    said = re.compile(r"\b(upward|downward|leftward|rightward|to the left|to the right)\b")
    orders = [r for r in json.loads((out / "benchmark.json").read_text()) + json.loads(
        (out / "train_questions.json").read_text()) if r["meta"].get("kind") == "order"]
    naming = [r for r in orders if said.search(r["question"])]
    assert naming, "no direction-naming order question in the build"
    for r in orders:
        named = r["meta"].get("named_directions", {})
        words = sorted(w.replace("to the left", "leftward").replace("to the right", "rightward")
                       for w in said.findall(r["question"]))
        assert sorted(d for code in named.values() for d in code.split("+")) == words, (r["question"], named)
        assert set(named) <= set(r["meta"]["parts"])
