import csv
from pathlib import Path

import pytest

from mabench import taxonomy as t

SHARED = Path(__file__).resolve().parents[2] / "shared/data/ma52"


def test_counts_match_ma52():
    assert len(t.COARSE_CLASSES) == 7
    assert len(t.FINE_LABELS) == 52 == len(set(t.FINE_LABELS))
    assert {c: len(f) for c, f in t.COARSE_FINE.items()} == {
        "Body": 5, "Head": 6, "Upper limb": 13, "Lower limb": 8,
        "Body-hand": 6, "Head-hand": 10, "Leg-hand": 4,
    }
    assert len(t.BODY_PARTS) == 14 and "left lower arm" in t.BODY_PARTS
    assert t.PHASES == ("early", "middle", "late")


def test_task_table():
    assert t.TASK_ORDER == ("CMAR", "FMAR", "SAD", "MAD", "MAS", "PPR", "MADU", "MARE")
    assert t.QUESTIONS_PER_CLIP == 12
    assert t.TASKS["CMAR"].choices == tuple("ABCDEFG")
    assert t.TASKS["FMAR"].choices == tuple("ABCDE")
    assert t.TASKS["PPR"].choices == ("Yes", "No")
    assert not t.TASKS["MARE"].closed
    # the paper's random closed AVG
    random_avg = 100 * sum(t.TASKS[c].chance for c in t.CLOSED_TASKS) / 6
    assert round(random_avg, 2) == 39.05


def test_code_table_is_complete_and_letters_match_coarse_class():
    assert len(t.FINE_CODES) == 52 and set(t.FINE_CODES.values()) == set(t.FINE_LABELS)
    for code, label in t.FINE_CODES.items():
        assert t.COARSE_CODE[t.FINE_TO_COARSE[label]] == code[0], code
    # numbers run 1..n inside each letter, n = the class size
    for coarse, fines in t.COARSE_FINE.items():
        letter = t.COARSE_CODE[coarse]
        assert sorted(int(c[1:]) for c in t.FINE_CODES if c[0] == letter) == list(range(1, len(fines) + 1))
    assert t.FINE_TO_CODE["nodding"] == "B1" and t.fine_from_code(" f10 ") == "covering face"
    assert t.fine_from_code("Z9") is None and t.fine_from_code("nodding") is None


def test_code_table_matches_ma52_codes_csv():
    path = SHARED / "codes.csv"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 52
    assert {r["code"]: r["label"] for r in rows} == t.FINE_CODES
    for r in rows:
        assert t.FINE_LABELS.index(r["label"]) == int(r["index"]), r
        assert t.FINE_TO_COARSE[r["label"]] == r["coarse"], r


def test_label_index_order_matches_ma52_label_name_txt():
    path = SHARED / "label_name.txt"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    pairs = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [(int(i), name.strip()) for i, name in pairs] == list(enumerate(t.FINE_LABELS))


def test_label_matching_is_lenient_but_exact():
    assert t.match_fine("Illustrative gestures - C1") == "illustrative gestures"
    assert t.match_fine("  SCRATCHING or touching, neck!") == "scratching or touching neck"
    assert t.match_fine("Nodding (B1)") == "nodding"
    assert t.match_fine("nod") is None
    assert t.match_coarse("head hand") == "Head-hand"
    assert t.match_coarse("Head") == "Head"
    assert t.match_coarse("Upper-limb") == "Upper limb"


def test_old_task_codes():
    assert [t.canonical_task(c) for c in ("CMAC", "FMAC", "AS", "VCC-LS", "LRC-LS", "sad", "XYZ")] == [
        "CMAR", "FMAR", "MAS", "MADU", "MARE", "SAD", None,
    ]
