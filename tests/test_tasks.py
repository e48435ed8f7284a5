"""The task registry: one definition per task, and the training corpus asks what eval asks."""

from __future__ import annotations

import json

from mabench.builder.corpus import samples
from mabench.builder.questions import TEMPLATES
from mabench.data import load_benchmark
from mabench.evaluation.prompts import load_prompts
from mabench.evaluation.runner import make_request
from mabench.evaluation.tasks import TASKS_BY_CODE, task
from mabench.synth.questions import placeholder_records
from mabench.taxonomy import OPEN_DIMENSIONS, TASK_ORDER


def test_every_task_is_registered_once():
    assert tuple(TASKS_BY_CODE) == TASK_ORDER
    for code, t in TASKS_BY_CODE.items():
        assert t.code == code and t.metric == ("accuracy" if t.closed else "rubric")
        assert dict(t.dimensions) == OPEN_DIMENSIONS.get(code, {})


def test_every_builder_wording_belongs_to_the_task_its_name_says():
    from mabench.builder.questions import SPECS
    spec_wordings = [w for spec in SPECS.values() for w in spec.templates]
    assert sorted(spec_wordings + ["CMAR", "FMAR", "MADU", "MARE"]) == sorted(TEMPLATES)
    for code, spec in SPECS.items():
        assert code in TASKS_BY_CODE and all(w.split("_")[0] == code for w in spec.templates)


def test_corpus_sample_is_the_request_eval_sends_for_every_task(tmp_path):
    records = placeholder_records(3, seed=1)
    bench_path = tmp_path / "bench.json"
    bench_path.write_text(json.dumps(records))
    bench = load_benchmark(bench_path)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    chat = {s["id"]: s for s in samples(records, {r["video_name"]: clip for r in records})}
    prompts = load_prompts(None)  # what `mabench eval` uses without --prompts
    seen = set()
    for q in bench:
        req = make_request(q, prompts)
        sample = chat[q.qid]["messages"]
        assert [m["role"] for m in sample] == ["system", "user", "assistant"]
        user_text = "".join(c["text"] for c in sample[1]["content"] if c["type"] == "text")
        assert sample[0]["content"] == req.system_prompt, q.task
        assert user_text == req.question, q.task
        seen.add(q.task)
    assert seen == set(TASK_ORDER)


def test_task_extracts_and_refuses_to_judge_closed_tasks():
    assert task("SAD").extract("Yes, it does.").answer == "Yes"
    assert "L1" in task("MADU").judge_prompt()
    try:
        task("CMAR").judge_prompt()
    except ValueError as err:
        assert "accuracy" in str(err)
    else:
        raise AssertionError("a closed task has no judge prompt")
