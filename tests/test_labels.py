"""Labels for `mabench build`: CSV and mmaction2 lists (MA-52 as it ships), label_name.txt, subjects,
withheld labels, the missing-clip summary, and an end-to-end build on the real MA-52 clips."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mabench.builder.labels import LabelsError, read_label_file, read_label_names, read_labels
from mabench.cli import app
from mabench.taxonomy import FINE_LABELS

SHARED = Path(__file__).resolve().parents[2] / "shared/data/ma52"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} absent")
    return path


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))  # bytes: keep the CRLFs exactly as written
    return path


def test_mmaction2_list_any_whitespace_crlf_no_header(tmp_path):
    p = _write(tmp_path / "list.txt", "a_clip.mp4 9\r\nb.mp4\t0\r\n\r\n  c.mp4   51  \r\nd 23\r\n")
    f = read_label_file(p)
    assert f.format == "list" and f.problems == [] and f.label_names == "built-in"
    assert [(r.row, r.clip, r.fine) for r in f.rows] == [
        (1, "a_clip.mp4", "nodding"), (2, "b.mp4", "shaking body"), (4, "c.mp4", "scratching feet"),
        (5, "d", "illustrative gestures")]
    assert f.subjects is None and all(r.subject is None for r in f.rows)  # not MA-52 names: no subjects


def test_default_index_order_is_ma52s():
    # the built-in order is what MA-52's lists index; spot checks against label_name.txt's facts
    assert FINE_LABELS[0] == "shaking body" and FINE_LABELS[9] == "nodding" and FINE_LABELS[51] == "scratching feet"
    assert FINE_LABELS[1] == "sitting straightly" and FINE_LABELS[8] == "turning head"


def test_bad_list_lines_are_reported_per_line(tmp_path):
    p = _write(tmp_path / "list.txt", "x.mp4 3\nonly_a_name.mp4\ny.mp4 52\nz.mp4 3 4\nx.mp4 4\nw.mp4 nod\n")
    rows, problems = read_labels(p)
    assert [(r.clip, r.fine) for r in rows] == [("x.mp4", "turning around")]
    assert problems[0] == "list.txt line 2: expected '<clip> <label index>', got 'only_a_name.mp4'"
    assert problems[1] == "list.txt line 4: expected '<clip> <label index>', got 'z.mp4 3 4'"
    assert "line 3: label index 52 for y.mp4 is not a label index (0–51)" in problems[2]
    assert problems[3] == "list.txt line 5: x.mp4 is already labelled on line 1"
    assert problems[4] == "list.txt line 6: unknown label 'nod' for w.mp4"
    assert len(problems) == 5


def test_label_names_file_maps_indices(tmp_path):
    names = _write(tmp_path / "names.txt", "0\tnodding\r\n1\tTouching Nose\r\n7\tshaking body")
    assert read_label_names(names) == {0: "nodding", 1: "touching nose", 7: "shaking body"}
    lst = _write(tmp_path / "list.txt", "a.mp4 0\nb.mp4 1\nc.mp4 7\nd.mp4 2\n")
    f = read_label_file(lst, label_names=names)
    assert [(r.clip, r.fine) for r in f.rows] == [("a.mp4", "nodding"), ("b.mp4", "touching nose"),
                                                  ("c.mp4", "shaking body")]
    assert f.problems == ["list.txt line 4: label index 2 for d.mp4 is not in names.txt (0–7)"]
    assert f.label_names == str(names)


@pytest.mark.parametrize("text, message", [
    ("0\tnodding\n1\tdancing\n", "names.txt line 2: unknown label 'dancing' (not one of MA-52's 52 fine labels)"),
    ("0\tnodding\nnodding\n", "names.txt line 2: expected '<index><TAB><label>', got 'nodding'"),
    ("0\tnodding\n0\twaving\n", "names.txt line 2: index 0 is given twice"),
    ("0\tnodding\n1\tNodding\n", "names.txt line 2: 'nodding' already has index 0"),
    ("\n\n", "names.txt: no label names"),
])
def test_label_names_file_is_validated_against_the_taxonomy(tmp_path, text, message):
    names = _write(tmp_path / "names.txt", text)
    with pytest.raises(LabelsError) as e:
        read_label_names(names)
    assert message in str(e.value) and str(names) in str(e.value) and "\n" not in str(e.value)


def test_real_label_name_txt_matches_the_built_in_order():
    names = read_label_names(_need(SHARED / "label_name.txt"))
    assert names == dict(enumerate(FINE_LABELS))


def test_csv_keeps_working_and_takes_codes_and_indices(tmp_path):
    p = _write(tmp_path / "labels.csv", "clip,label,subject\r\na.mp4,Nodding - B1,S1\r\nb.mp4,C6,S2\r\n"
                                        "c.mp4,9,S3\r\nd.mp4,Z9,S4\r\n")
    f = read_label_file(p)
    assert f.format == "csv" and f.subjects == "column"
    assert [(r.row, r.clip, r.fine, r.subject) for r in f.rows] == [
        (2, "a.mp4", "nodding", "S1"), (3, "b.mp4", "scratching arms", "S2"), (4, "c.mp4", "nodding", "S3")]
    assert f.problems == ["labels.csv row 5: unknown label 'Z9' for d.mp4 (MA-52 codes run A1–A5, B1–B6, "
                          "C1–C13, D1–D8, E1–E6, F1–F10, G1–G4)"]


def test_subjects_from_ma52_clip_names_unless_told_otherwise(tmp_path):
    lst = _write(tmp_path / "list.txt", "0003_01_0001.mp4 9\r\n0003_02_0010.mp4 9\r\n0147_01_0002 3\r\n")
    f = read_label_file(lst)
    assert f.subjects == "MA-52 clip names"
    assert [r.subject for r in f.rows] == ["0003", "0003", "0147"]
    # an explicit pattern wins
    f = read_label_file(lst, subject_pattern=r"_(\d\d)_")
    assert f.subjects == "pattern" and [r.subject for r in f.rows] == ["01", "02", "01"]
    # a subject column wins
    csv = _write(tmp_path / "l.csv", "clip,label,subject\n0003_01_0001.mp4,nodding,P7\n")
    f = read_label_file(csv)
    assert f.subjects == "column" and f.rows[0].subject == "P7"
    # one name not in MA-52's form: no guessing for the others either
    mixed = _write(tmp_path / "mixed.txt", "0003_01_0001.mp4 9\r\nclip7.mp4 9\r\n")
    f = read_label_file(mixed)
    assert f.subjects is None and [r.subject for r in f.rows] == [None, None]


def test_all_same_label_index_is_refused(tmp_path):
    lst = _write(tmp_path / "test_list.txt", "".join(f"test{i:04d}.mp4 0\r\n" for i in range(40)))
    with pytest.raises(LabelsError) as e:
        read_label_file(lst)
    assert str(e.value) == (f"{lst}: all 40 rows have label index 0: MA-52's test list withholds its labels; "
                            "use the train or val list")
    other = _write(tmp_path / "nines.txt", "".join(f"c{i}.mp4 9\n" for i in range(12)))
    with pytest.raises(LabelsError, match=r"all 12 rows have label index 9: one label \(nodding\)"):
        read_label_file(other)
    # a handful of rows with one label is a legitimate small set
    few = _write(tmp_path / "few.txt", "".join(f"c{i}.mp4 9\n" for i in range(3)))
    assert len(read_label_file(few).rows) == 3


def test_real_test_list_is_refused_train_and_val_lists_read():
    with pytest.raises(LabelsError) as e:
        read_label_file(_need(SHARED / "test_list_videos.txt"))
    assert "all 5586 rows have label index 0: MA-52's test list withholds its labels" in str(e.value)
    for name, n in (("train", 11250), ("val", 5586)):
        f = read_label_file(SHARED / f"{name}_list_videos.txt", label_names=SHARED / "label_name.txt")
        assert f.format == "list" and f.problems == [] and len(f.rows) == n
        assert f.subjects == "MA-52 clip names" and all(r.subject == r.clip[:4] for r in f.rows)
        assert len({r.fine for r in f.rows}) == 52
    first = read_label_file(SHARED / "train_list_videos.txt").rows[0]
    assert (first.clip, first.fine, first.subject) == ("0003_01_0001.mp4", "nodding", "0003")


def test_unreadable_or_headerless_files_fail_with_one_line(tmp_path):
    with pytest.raises(LabelsError, match="cannot read labels"):
        read_label_file(tmp_path / "nope.txt")
    with pytest.raises(LabelsError, match="empty labels file"):
        read_label_file(_write(tmp_path / "empty.txt", "\r\n"))
    with pytest.raises(LabelsError, match="needs a header with a clip column"):
        read_label_file(_write(tmp_path / "h.csv", "a.mp4,nodding\n"))
    with pytest.raises(LabelsError, match="cannot read label names"):
        read_label_file(_write(tmp_path / "l.txt", "a.mp4 1\n"), label_names=tmp_path / "nope.txt")


def test_missing_clips_and_bad_rows_are_summarised_not_listed(tmp_path):
    (tmp_path / "clips").mkdir()
    (tmp_path / "sk").mkdir()
    lines = [f"0003_01_{i:04d}.mp4 {i % 52}" for i in range(12)] + [f"bad{i}.mp4 99" for i in range(15)]
    lst = _write(tmp_path / "list.txt", "\r\n".join(lines) + "\r\n")
    r = CliRunner().invoke(app, ["build", str(tmp_path / "clips"), "--labels", str(lst), "--skeletons",
                                 str(tmp_path / "sk"), "--out", str(tmp_path / "o"), "--no-flow", "--workers", "1"])
    assert r.exit_code == 2, r.output
    out = r.output.splitlines()
    missing = [ln for ln in out if "not found" in ln]
    assert len(missing) == 1, r.output
    assert "list.txt: 12 of 12 listed clips not found in" in missing[0]
    assert "0003_01_0000.mp4 (line 1), 0003_01_0001.mp4 (line 2)" in missing[0] and "and 7 more" in missing[0]
    assert "0003_01_0011.mp4" not in r.output
    # 15 bad rows: 10 printed with their line, the rest counted
    assert sum("is not a label index" in ln for ln in out) == 10
    assert "... and 5 more rows that cannot be used" in r.output
    assert "no usable clips" in r.output


def test_build_real_ma52_clips_from_an_mmaction2_list(tmp_path):
    clips = _need(SHARED / "clips")
    names_txt = _need(SHARED / "label_name.txt")
    pytest.importorskip("mediapipe")
    from mabench.motion.pose import make_pose_backend
    from mabench.motion.skeleton import SkeletonError

    try:
        make_pose_backend("mediapipe")
    except SkeletonError as e:
        pytest.skip(str(e))
    # indices from the real label_name.txt, so the test checks the file, not our own order
    index = {name.strip(): int(i) for i, name in (ln.split("\t") for ln in names_txt.read_text().splitlines())}
    want = {"0019_02_0078.mp4": "nodding", "0030_01_0002.mp4": "shaking body",
            "0020_01_0008.mp4": "sitting straightly"}
    absent = [f"0003_01_{i:04d}.mp4" for i in range(1, 7)]
    lst = _write(tmp_path / "ma52_list.txt", "".join(f"{c} {index[f]}\r\n" for c, f in want.items())
                 + "".join(f"{c} 9\r\n" for c in absent))
    out = tmp_path / "built"
    # --no-flow: optical flow is not what this test is about (and it has crashed on these 1080x1296 clips)
    r = CliRunner().invoke(app, ["build", str(clips), "--labels", str(lst), "--label-names", str(names_txt),
                                 "--pose", "mediapipe", "--no-flow", "--out", str(out), "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert "mmaction2 list" in r.output and "subjects: MA-52 clip names" in r.output
    assert "6 of 9 listed clips not found in" in r.output and "and 1 more" in r.output
    summary = json.loads((out / "build.json").read_text())
    assert summary["labels"] == {"file": str(lst), "format": "list", "label_names": str(names_txt),
                                 "subjects": "MA-52 clip names"}
    assert summary["clips"] == {"labelled": 9, "usable": 3} and summary["missing_clips"] == absent
    assert len(summary["problems"]) == 1 and summary["settings"]["label_names"] == str(names_txt)
    caps = [json.loads(ln) for ln in (out / "captions.jsonl").read_text().splitlines()]
    assert {c["clip"]: (c["fine"], c["subject"]) for c in caps} == {c: (f, c[:4]) for c, f in want.items()}
    split = json.loads((out / "split.json").read_text())
    assert split["by"] == "subject" and sorted(split["test_subjects"] + split["train_subjects"]) == [
        "0019", "0020", "0030"]
