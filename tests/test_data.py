import json

import pytest

from mabench.data import BenchmarkError, load_benchmark, write_benchmark
from mabench.data.io import read_records


def test_load_fixture(bench_file):
    b = load_benchmark(bench_file)
    assert len(b) == 60 and len(b.videos) == 5
    assert b.task_counts()["SAD"] == 10
    cmar = next(q for q in b if q.task == "CMAR")
    assert [o.letter for o in cmar.options] == list("ABCDEFG")
    assert all(o.label for o in cmar.options)
    assert cmar.stem.startswith("What is the coarse")
    assert len(b.sha256) == 64


def test_official_file_counts(official_file):
    b = load_benchmark(official_file)
    assert len(b) == 12000
    assert len(b.videos) == 1000
    assert dict(b.task_counts()) == {
        "CMAR": 1000, "FMAR": 1000, "SAD": 2000, "MAD": 2000, "MAS": 2000, "PPR": 2000,
        "MADU": 1000, "MARE": 1000,
    }
    per_clip = {}
    for q in b:
        per_clip[q.video_id] = per_clip.get(q.video_id, 0) + 1
    assert set(per_clip.values()) == {12}
    assert not b.has_answers
    # every option of every CMAR/FMAR question maps onto the taxonomy (code suffixes included)
    assert all(o.label for q in b for o in q.options)


def test_official_round_trip_is_lossless(official_file, tmp_path):
    b = load_benchmark(official_file)
    out = tmp_path / "copy.json"
    write_benchmark(out, b)
    assert json.loads(out.read_text()) == json.loads(official_file.read_text())
    out2 = tmp_path / "copy.jsonl"
    write_benchmark(out2, b)
    assert [q.to_dict() for q in load_benchmark(out2)] == json.loads(official_file.read_text())


def test_variants_video_key_old_codes_and_extras(tmp_path):
    recs = [
        {"video": "abc.mp4", "task": "CMAC", "qid": "1",
         "question": "Q?\nA. Body\nB. Head\nC. Upper limb\nD. Lower limb\nE. Body-hand\nF. Head-hand\nG. Leg-hand",
         "answer": "b", "meta": {"part": "head"}},
        {"video": "abc", "task": "AS", "qid": "2", "question": "Did X happen before Y?", "answer": "yes"},
        {"video": "abc", "task": "VCC-LS", "qid": "3", "question": "Describe.", "answer": "Free text."},
    ]
    p = tmp_path / "b.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    b = load_benchmark(p)
    q1, q2, q3 = b.questions
    assert (q1.task, q1.answer, q1.video_id, q1.extra) == ("CMAR", "B", "abc", {"meta": {"part": "head"}})
    assert (q2.task, q2.answer) == ("MAS", "Yes")
    assert q3.task == "MADU" and q3.answer == "Free text."
    assert len(b.videos) == 1
    out = tmp_path / "o.jsonl"
    write_benchmark(out, b)
    again = load_benchmark(out)
    assert [q.to_dict() for q in again] == [q.to_dict() for q in b]
    assert again.questions[0].to_dict()["video"] == "abc.mp4"
    assert again.questions[0].to_dict()["meta"] == {"part": "head"}


def _bad(tmp_path, text, name="b.json"):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(BenchmarkError) as e:
        load_benchmark(p)
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg
    return msg


def test_clear_errors(tmp_path, records):
    with pytest.raises(BenchmarkError, match="no such file"):
        load_benchmark(tmp_path / "nope.json")
    msg = _bad(tmp_path, '[{"qid": "a",\n "task": }]')
    assert "invalid JSON at line 2 column" in msg
    msg = _bad(tmp_path, '{"qid": "a"}\n{"qid": \n', name="b.jsonl")
    assert "invalid JSON at line 2" in msg

    r = dict(records[0])
    del r["question"]
    msg = _bad(tmp_path, json.dumps([r]))
    assert "record 0" in msg and r["qid"] in msg and "'question'" in msg and "missing" in msg

    r = dict(records[2], task="XYZ")
    msg = _bad(tmp_path, json.dumps([r]))
    assert "unknown task code 'XYZ'" in msg and "CMAR" in msg

    r = dict(records[0], question="Which class?\nA. Body\nB. Head")
    msg = _bad(tmp_path, json.dumps([r]))
    assert "CMAR options do not parse" in msg and "A, B, C, D, E, F, G" in msg

    r = dict(records[0], question="Which class?\nA. Body\nB. Head\nC. Banana\nD. x\nE. y\nF. z\nG. w")
    assert "7 coarse classes" in _bad(tmp_path, json.dumps([r]))

    msg = _bad(tmp_path, json.dumps([records[0], records[1], dict(records[2], qid=records[0]["qid"])]))
    assert "duplicate qid" in msg and "record 2" in msg and "record 0" in msg

    msg = _bad(tmp_path, json.dumps([dict(records[2], answer="Maybe")]))
    assert "'answer'" in msg and "Yes or No" in msg

    r = dict(records[2])
    del r["video_name"]
    assert "'video_name' or 'video'" in _bad(tmp_path, json.dumps([r]))


def test_questions_wrapper_object(tmp_path, records):
    p = tmp_path / "b.json"
    p.write_text(json.dumps({"questions": records}))
    assert len(read_records(p)) == len(records)


def test_written_files_get_the_usual_permissions(tmp_path, bench_file):
    import os
    import stat

    out = tmp_path / "copy.json"
    write_benchmark(out, load_benchmark(bench_file))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_rows_carry_a_schema_and_a_newer_one_is_refused(tmp_path):
    import pytest

    from mabench.data.predictions import ROW_SCHEMA, Prediction, RowSchemaError, read_predictions
    from mabench.evaluation.judge import Judgment, read_judgments

    row = Prediction("SAD_0", "SAD", pred_answer="Yes").to_dict()
    assert row["schema"] == ROW_SCHEMA and Judgment("MADU_0", "MADU", "j").to_dict()["schema"] == ROW_SCHEMA
    old = {k: v for k, v in row.items() if k != "schema"}  # a run from before versioning still reads
    (tmp_path / "p.jsonl").write_text(json.dumps(old) + "\n" + json.dumps({**row, "schema": ROW_SCHEMA + 1}) + "\n")
    with pytest.raises(RowSchemaError, match="upgrade mabench"):
        read_predictions(tmp_path / "p.jsonl")
    (tmp_path / "p.jsonl").write_text(json.dumps(old) + "\n")
    assert read_predictions(tmp_path / "p.jsonl")[0].pred_answer == "Yes"
    (tmp_path / "j.jsonl").write_text(json.dumps({"qid": "MADU_0", "judge": "j", "schema": 99}) + "\n")
    with pytest.raises(RowSchemaError):
        read_judgments(tmp_path / "j.jsonl")
