"""`mabench build --paraphrase reference`: the Yes/No questions reworded in a reference benchmark's own
phrasings, no model. The reference questions here are invented; the official file's test skips without it."""

import json
import random

import pytest

from mabench.audit.slots import slot
from mabench.builder.paraphrase import PARAPHRASE_TASKS, check_paraphrase
from mabench.builder.phrasings import REWORD_TASKS, ReferencePhrasings, fill

ORDER = "Did the left hand begin moving upward before the head started moving leftward?"


def _ref(*questions, task="MAS"):
    return [{"video_name": f"v{i}.mp4", "task": task, "qid": f"{task}_{i}", "question": q}
            for i, q in enumerate(questions)]


def test_a_reference_wording_carries_the_template_facts_in_order():
    got = fill("Did the torso start moving downward before the right foot began moving to the right?", ORDER)
    assert got == "Did the left hand start moving upward before the head began moving to the left?"
    assert check_paraphrase(ORDER, got) is None
    # its manner kept: title-case parts, "initial"/"final" for the phases, a/an before the new word
    assert fill("In the initial phase of the video, does the Torso approach the Head?",
                "In the late phase, does the left hand approach the head?") == \
        "In the final phase of the video, does the Left Hand approach the Head?"
    assert fill("Did the head move in a downward direction?", "Did the torso move upward?") == \
        "Did the torso move in an upward direction?"
    # no fill where the counts differ or the reference's word has no form for our value
    assert fill("Did the head move leftward before the torso?", ORDER) is None
    assert fill("At the beginning of the video, does the torso approach the head?",
                "In the late phase, does the left hand approach the head?") is None
    assert fill("While the hands were moving upward, did the head move leftward?",
                "While the left hand moved upward, did the head move leftward?") is None  # plural
    # "at the beginning" reads as an instant, even for the early phase; a quoted phrase would be nonsense
    assert fill("At the beginning of the video, does the torso approach the head?",
                "In the early phase, does the left hand approach the head?") is None
    assert fill("Did the 'torso move downward' happen before the right foot moved?",
                "Did the left hand move upward before the head moved?") is None


def test_only_fact_neutral_wordings_that_ask_the_same_are_drawn():
    safe = "Did the torso start moving downward before the right foot began moving rightward?"
    ref = _ref(
        safe,
        "Before the torso began moving downward, did the right foot start moving rightward?",  # roles swapped
        "Did the torso tilt downward before the right foot began moving rightward?",  # a verb nobody measured
        "During the nodding action, did the torso start moving downward before the right foot moved rightward?",
        "Did the torso start moving downward after the right foot began moving rightward?",  # another relation
        "Did the torso start moving downward before the right foot began moving rightward, 2 times?",  # a number
    ) + _ref(safe, task="SAD")
    phr = ReferencePhrasings(ref)
    assert phr.candidates("MAS", ORDER) == [safe]
    # words that change scope are not neutral; a reference's own slip is not copied
    seq = "Did the left hand move upward before it moved downward?"
    assert ReferencePhrasings(_ref("Did the torso move upward, or downward, before it moved?")).candidates(
        "MAS", seq) == []
    near = "In the late phase of the video, does the left hand move closer to the head?"
    assert ReferencePhrasings(_ref("By the early stage of the video, has the Torso moved closer to the Right Foot?",
                                   task="PPR")).candidates("PPR", near) == []
    fine = "Did the torso's downward movement happen before the right foot began moving rightward?"
    slip = "Did the torso move downward happen before the right foot began moving rightward?"
    occur = "Did the left hand's upward movement happen before the head began moving leftward?"
    assert ReferencePhrasings(_ref(fine)).candidates("MAS", occur) == [fine]
    assert ReferencePhrasings(_ref(slip)).candidates("MAS", occur) == []
    # amplitude: "compared to A, did B ..." puts B first; "A ... than B" A
    amp = "Did the head move with a larger amplitude than the torso?"
    phr = ReferencePhrasings(_ref("Compared to the left hand, did the left foot show a greater movement amplitude?",
                                  "Did the left foot have a greater motion amplitude than the left hand?", task="MAD"),
                             tasks=("MAD",))
    assert phr.candidates("MAD", amp) == ["Did the left foot have a greater motion amplitude than the left hand?"]


def test_wordings_are_drawn_in_the_reference_proportions_and_the_rest_keep_their_template():
    a = "Did the torso start moving downward before the right foot began moving rightward?"
    b = "Did the torso's downward movement begin before the right foot started moving rightward?"
    phr = ReferencePhrasings(_ref(a, a, a, b))
    said = [phr.reword("MAS", ORDER, random.Random(i)) for i in range(400)]
    assert all(s is not None and check_paraphrase(ORDER, s) is None for s in said)
    share = sum(slot(s).text == slot(a).text for s in said) / 400
    assert 0.65 < share < 0.85  # 3 in 4 expected
    assert said == [phr.reword("MAS", ORDER, random.Random(i)) for i in range(400)]  # seeded
    assert phr.reword("MAS", "Did the left hand move upward before it moved downward?", random.Random(0)) is None
    assert phr.reword("SAD", ORDER, random.Random(0)) is None  # another task's wordings are not drawn


def test_build_asks_in_the_reference_phrasings_what_its_templates_ask(build_small, tmp_path):
    plain = tmp_path / "plain"
    assert build_small(plain).exit_code == 0
    # an invented reference: the plain build's questions in another manner ("In this clip, ..."), plus wordings
    # that must never be drawn (a word that is not fact-neutral, a verb nobody measured)
    ref = []
    for q in build_small.questions(plain):
        if q["task"] in PARAPHRASE_TASKS:
            text = q["question"]
            ref.append((q["task"], "In this clip, " + text[0].lower() + text[1:]))
            ref.append((q["task"], "Zorpily, " + text[0].lower() + text[1:].replace("move", "tilt")))
    random.Random(0).shuffle(ref)
    ref_file = tmp_path / "ref.json"
    ref_file.write_text(json.dumps([{"video_name": f"r{i}.mp4", "task": t, "qid": f"{t}_{i}", "question": q}
                                    for i, (t, q) in enumerate(ref)]))
    out = tmp_path / "out"
    r = build_small(out, "--paraphrase", "reference", "--reference", str(ref_file))
    assert r.exit_code == 0, r.output
    qs = build_small.questions(out)
    moved = 0
    for q in qs:
        p = q["meta"].get("paraphrase")
        if q["task"] not in REWORD_TASKS:  # SAD / MAD keep mabench's wording (see REWORD_TASKS)
            assert p is None and "orpily" not in q["question"] and not q["question"].startswith("In this clip")
            continue
        if p["status"] == "accepted":
            moved += 1
            assert q["question"].startswith("In this clip, ") and "orpily" not in q["question"], q
            assert check_paraphrase(p["template"], q["question"]) is None  # it asks what its template asks
        else:
            assert "orpily" not in q["question"] and not q["question"].startswith("In this clip")
    reworded = sum(q["task"] in REWORD_TASKS for q in qs)
    assert moved >= 0.5 * reworded  # (the reference holds only the families the plain build happened to ask)
    assert f"paraphrase: {moved} asked in {ref_file}'s phrasings, {reworded - moved} in mabench's own" in r.output
    bench = [q for q in json.loads((out / "benchmark.json").read_text()) if q["task"] in REWORD_TASKS]
    assert json.loads((out / "qc.json").read_text())["paraphrase"].get("accepted", 0) == sum(
        q["meta"]["paraphrase"]["status"] == "accepted" for q in bench)
    chat = (out / "corpus" / "chat.jsonl").read_text()
    assert chat.count("In this clip, ") >= sum(q["meta"]["paraphrase"]["status"] == "accepted" for q in json.loads(
        (out / "train_questions.json").read_text()) if q["task"] in REWORD_TASKS)  # the corpus trains on them


def test_the_python_api_refuses_an_unusable_paraphrase_before_writing_anything(small_build_set, tmp_path):
    from mabench.builder.pipeline import BuildSettings, build

    s = small_build_set
    for spec, says in (("reference", "--reference FILE"), ("bogus", "openai:NAME"), ("openai:w", "--base-url")):
        settings = BuildSettings(skeletons=str(s / "skeletons"), flow=False, workers=1, paraphrase=spec)
        with pytest.raises(ValueError, match=says):
            build(s / "clips", s / "labels.csv", tmp_path / spec, settings, log=lambda _: None)
        assert not (tmp_path / spec).exists()


def test_reference_paraphrase_needs_a_reference_and_a_known_spec(build_small, tmp_path):
    r = build_small(tmp_path / "a", "--paraphrase", "reference")
    assert r.exit_code == 2 and "--reference FILE" in r.output and not (tmp_path / "a").exists()
    r = build_small(tmp_path / "b", "--paraphrase", "bogus")
    assert r.exit_code == 2 and "openai:NAME" in r.output and "reference" in r.output


def test_official_phrasings_carry_most_built_proximity_questions(build_small, official_file, tmp_path):
    out = tmp_path / "out"
    r = build_small(out, "--paraphrase", "reference", "--reference", str(official_file))
    assert r.exit_code == 0, r.output
    official = {slot(q["question"]).text for q in json.loads(official_file.read_text()) if q["task"] == "PPR"}
    ppr = [q for q in build_small.questions(out) if q["task"] == "PPR"]
    moved = [q for q in ppr if q["meta"]["paraphrase"]["status"] == "accepted"]
    assert len(moved) >= 0.5 * len(ppr)  # (the "steady distance" questions have no official wording)
    assert all(slot(q["question"]).text in official for q in moved)  # each in an official phrasing family
    assert all(check_paraphrase(q["meta"]["paraphrase"]["template"], q["question"]) is None for q in moved)
