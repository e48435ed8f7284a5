from mabench import taxonomy as t


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


def test_known_codes_agree_with_coarse_class():
    for code, label in t.KNOWN_FINE_CODES.items():
        assert t.COARSE_CODE[t.FINE_TO_COARSE[label]] == code[0], code


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
