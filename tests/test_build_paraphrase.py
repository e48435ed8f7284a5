"""`mabench build --paraphrase`: the Yes/No questions reworded by an LLM at a real HTTP server on 127.0.0.1,
each reply fact-checked against its template, kept across reruns. The reference questions are invented."""

import json
import re

from mabench.builder.paraphrase import PARAPHRASE_TASKS, _prompt, check_paraphrase, reference_examples
from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

ORDER = "Did the left hand begin moving upward before the head started moving leftward?"
TREND = "During the late stage (1.2–1.9 seconds), does the Left Hand noticeably approach the Head?"


def test_the_fact_check_keeps_meaning_and_nothing_else():
    ok = [(ORDER, "Did the left hand start to move upward before the head began to move leftward?"),
          (TREND, "In the final stage (1.2–1.9 s), does the left hand noticeably come nearer to the head?"),
          ("Does the torso keep a steady distance from the head in the early phase?",
           "In the early phase, does the distance from the torso to the head stay unchanged?")]
    for template, text in ok:
        assert check_paraphrase(template, text) is None, text
    bad = {
        "Did the head begin moving leftward before the left hand started moving upward?": "changes which part",
        "Did the left hand begin moving upward after the head started moving leftward?": "changes the words",
        "Did the left hand begin moving downward before the head started moving leftward?": "changes which part",
        "Did the left hand not begin moving upward before the head started moving leftward?": "changes the relation",
        "Did the left hand stop moving upward before the head started moving leftward?": "changes the relation",
        "Did the left hand begin moving upward only when the head had already started moving leftward first?":
            "changes the words",
        "Did the left hand rise before the head started moving leftward?": "changes which part",  # verbs don't count
        "Did the left hand begin moving upward before the head started moving leftward? Yes.": "not one question",
        "Did the left hand begin moving upward?\nDid the head move leftward?": "not one question",
        "": "empty",
    }
    for text, reason in bad.items():
        got = check_paraphrase(ORDER, text)
        assert got is not None and got.startswith(reason), (text, got)
    swapped = "While the head moved downward in the early phase, did the left hand move upward at the same time?"
    assert check_paraphrase(swapped, swapped.replace("downward", "@").replace("upward", "downward").replace(
        "@", "upward")).startswith("changes which part moves which way")
    assert check_paraphrase(TREND, TREND.replace("1.9", "1.8")).startswith("changes times")
    assert check_paraphrase(TREND, TREND.replace("late", "middle")).startswith("changes phases")
    assert check_paraphrase(TREND, TREND.replace("approach", "move away from")).startswith("changes the relation")
    assert check_paraphrase(TREND, TREND.replace("noticeably", "even slightly")).startswith("changes the words")
    still = "Is the left hand displaced from its starting position during this micro-action?"
    assert check_paraphrase(still, still.replace("Is the left hand displaced from", "Does the left hand remain at")) \
        .startswith("changes the relation")
    opp = "During the late segment, did the left foot and the right foot move in opposite horizontal directions?"
    assert check_paraphrase(opp, opp.replace("horizontal", "vertical")).startswith("changes the words")


def test_examples_are_reference_questions_of_the_same_task_and_type():
    ref = [{"task": "MAS", "question": f"Had the {p} set off earlier than the torso, zorp {i}?"}
           for i, p in enumerate(("head", "left hand", "right hand", "left foot", "right foot"))]
    ref += [{"task": "MAS", "question": "Zorp, was the head near the torso?"},  # MAS, but another type
            {"task": "PPR", "question": "Zorp, did the head come before the torso?"}]  # the type, another task
    ex = reference_examples(ref)
    rec = {"task": "MAS", "qid": "MAS_0000", "question": ORDER}
    prompt = _prompt(rec, ex, seed=0)
    shown = re.findall(r"^- (.*)$", prompt, re.M)
    assert len(shown) == 3 and all("set off earlier" in s for s in shown), prompt
    assert prompt.endswith(f"QUESTION:\n{ORDER}") and prompt == _prompt(rec, ex, seed=0)  # seeded
    assert _prompt(rec, {}, seed=0) == f"QUESTION:\n{ORDER}"


def test_build_paraphrases_through_a_real_server_and_reuses_replies(build_small, tmp_path):
    out = tmp_path / "out"
    with FakeOpenAIServer(Behaviour(model="writer")) as srv:
        r = build_small(out, "--paraphrase", "openai:writer", "--base-url", srv.base_url)
        assert r.exit_code == 0, r.output
        asked = sum("question rephraser" in (q["system"] or "") for q in srv.requests)
    qs = build_small.questions(out)
    relational = [q for q in qs if q["task"] in PARAPHRASE_TASKS]
    assert asked == len(relational) and f"paraphrase: {asked} accepted, 0 rejected" in r.output
    for q in relational:  # the test server's faithful rewording, the template kept in meta
        p = q["meta"]["paraphrase"]
        assert p["status"] == "accepted" and q["question"].startswith("Looking at the video, ")
        assert q["question"][len("Looking at the video, "):].lower() == p["template"].lower(), q
    assert not any("paraphrase" in q.get("meta", {}) for q in qs if q["task"] not in PARAPHRASE_TASKS)
    bench = [q for q in json.loads((out / "benchmark.json").read_text()) if q["task"] in PARAPHRASE_TASKS]
    assert json.loads((out / "qc.json").read_text())["paraphrase"] == {"accepted": len(bench)}
    assert f"Paraphrase (questions offered for rewording): accepted {len(bench)}" in (out / "qc.md").read_text()
    # the corpus trains on the paraphrased text
    chat = [json.loads(line) for line in (out / "corpus" / "chat.jsonl").read_text().splitlines()]
    texts = " ".join(c["text"] for s in chat for m in s["messages"] if m["role"] == "user" for c in m["content"]
                     if c.get("type") == "text")
    assert texts.count("Looking at the video, ") >= len([q for q in json.loads(
        (out / "train_questions.json").read_text()) if q["task"] in PARAPHRASE_TASKS])
    # a rerun asks nothing: every reply is in OUT/paraphrases.jsonl; the questions come out the same
    lines = (out / "paraphrases.jsonl").read_text().splitlines()
    assert len(lines) == asked
    with FakeOpenAIServer(Behaviour(model="writer")) as srv2:
        r = build_small(out, "--paraphrase", "openai:writer", "--base-url", srv2.base_url)
        assert r.exit_code == 0, r.output
        assert not any("question rephraser" in (q["system"] or "") for q in srv2.requests)
    assert build_small.questions(out) == qs and f"{asked} from" in r.output


def test_unfaithful_replies_are_rejected_and_the_template_stays(build_small, tmp_path):
    out = tmp_path / "out"
    with FakeOpenAIServer(Behaviour(model="writer", paraphrase="flip")) as srv:  # before <-> after, up <-> down
        r = build_small(out, "--paraphrase", "openai:writer", "--base-url", srv.base_url)
    assert r.exit_code == 0, r.output
    flippable = re.compile(r"\b(before|after|upward|downward)\b")
    seen = 0
    for q in build_small.questions(out):
        p = q.get("meta", {}).get("paraphrase")
        if p is None:
            continue
        if flippable.search(q["question"]):
            seen += 1
            assert p["status"] == "rejected", q
            assert re.match(r"changes (the words|which part)", p["reason"]), q
        else:  # nothing to flip: the reply is the question itself, which keeps every fact
            assert p["status"] == "accepted"
    assert seen >= 5


def test_paraphrase_needs_an_endpoint_and_says_so_in_one_line(build_small, tmp_path):
    r = build_small(tmp_path / "a", "--paraphrase", "openai:writer")
    assert r.exit_code == 2 and "--base-url" in r.output and not (tmp_path / "a").exists()
    r = build_small(tmp_path / "b", "--paraphrase", "writer", "--base-url", "http://127.0.0.1:9/v1")
    assert r.exit_code == 2 and "openai:NAME" in r.output and not (tmp_path / "b").exists()


def test_the_reply_file_survives_a_cut_line_another_model_and_a_stricter_check(tmp_path):
    from mabench.builder.paraphrase import _load_cache, paraphrase_questions

    q1, q2, q3 = ORDER, TREND, "Does the head move leftward during the early phase?"
    recs = [{"task": t, "qid": f"{t}_{i}", "question": q} for i, (t, q) in enumerate(
        (("MAS", q1), ("PPR", q2), ("SAD", q3)))]
    cache = tmp_path / "paraphrases.jsonl"
    swapped = "Did the head begin moving leftward before the left hand started moving upward?"
    cache.write_text(
        json.dumps({"model": "openai:other", "task": "MAS", "template": q1, "text": swapped,
                    "status": "accepted"}) + "\n"  # another model's reply: not ours to reuse
        + json.dumps({"model": "openai:writer", "task": "PPR", "template": q2, "status": "accepted",
                      "text": "During the late stage (1.2–1.9 seconds), does the Head noticeably approach the "
                              "Left Hand?"}) + "\n"  # accepted once, fails today's check (parts swapped)
        + '{"model": "openai:writer", "task": "SAD", "templ')  # cut by a crash
    with FakeOpenAIServer(Behaviour(model="writer")) as srv:
        res = paraphrase_questions(recs, "openai:writer", srv.base_url, cache_path=cache)
        asked = [r for r in srv.requests if "question rephraser" in (r["system"] or "")]
    assert (res.accepted, res.rejected, res.reused, len(asked)) == (2, 0, 1, 2)
    assert recs[0]["question"].startswith("Looking at the video, ") and recs[2]["question"].startswith("Looking")
    assert recs[1]["question"] == q2 and recs[1]["meta"]["paraphrase"]["reason"].startswith("changes which part")
    # the new replies start on their own line after the cut one, so a rerun finds them
    assert {k[1] for k in _load_cache(cache, "openai:writer")} == {q1, q2, q3}
