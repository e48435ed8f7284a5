import subprocess
import sys

from mabench.data import load_benchmark
from mabench.video import SamplingConfig, sample_frames


def test_placeholder_set_for_dry_runs(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mabench.synth", "--placeholder", "--clips", "3", "--out",
                        str(tmp_path / "d")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    bench = load_benchmark(tmp_path / "d" / "bench.json")
    assert len(bench) == 36 and bench.has_answers and len(bench.videos) == 3
    for vid in bench.videos:
        frames = sample_frames(tmp_path / "d" / "clips" / f"{vid}.mp4", SamplingConfig())
        assert len(frames.jpegs) == 8 and 1.0 <= frames.duration + 0.04 <= 3.0 + 1e-6


def test_figure_set_covers_the_taxonomy_and_is_reproducible(tmp_path):
    import csv
    import json

    import numpy as np

    from mabench.motion.skeleton import load_skeleton_file
    from mabench.synth.generate import ACTIONS, write_set
    from mabench.taxonomy import COARSE_CLASSES, FINE_LABELS, FINE_TO_COARSE

    assert len(ACTIONS) >= 24 and set(ACTIONS) <= set(FINE_LABELS)
    assert {FINE_TO_COARSE[a] for a in ACTIONS} == set(COARSE_CLASSES)

    labels = write_set(tmp_path / "a", 4, seed=7, min_s=1.0, max_s=1.5)
    rows = list(csv.DictReader(labels.open()))
    assert [r.keys() for r in rows][0] == {"clip", "label", "subject"} and len(rows) == 4
    for r in rows:
        stem = r["clip"][:-4]
        truth = json.loads((tmp_path / "a" / "truth" / f"{stem}.json").read_text())
        assert truth["label"] == r["label"] and truth["coarse"] == FINE_TO_COARSE[r["label"]]
        assert {"dominant", "directions", "order", "pairs", "onset"} <= set(truth["facts"])
        sk = load_skeleton_file(tmp_path / "a" / "skeletons" / f"{stem}.json")
        frames = sample_frames(tmp_path / "a" / "clips" / r["clip"], SamplingConfig(num_frames=4))
        assert len(frames.jpegs) == 4
        assert abs(frames.duration - sk.duration) < 0.1  # the video and the keypoints share one clock
    write_set(tmp_path / "b", 4, seed=7, video=False, min_s=1.0, max_s=1.5)
    for f in (tmp_path / "b" / "skeletons").iterdir():
        a = load_skeleton_file(tmp_path / "a" / "skeletons" / f.name)
        assert np.array_equal(a.points, load_skeleton_file(f).points)


def test_synth_cli_rejects_bad_durations(tmp_path):
    from typer.testing import CliRunner

    from mabench.cli import app

    r = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--n", "2", "--max-seconds", "9"])
    assert r.exit_code == 2 and "1 <= min <= max <= 5" in r.output
