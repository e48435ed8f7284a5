import subprocess
import sys

from mabench.data import load_benchmark
from mabench.video import SamplingConfig, sample_frames


def test_placeholder_set_for_dry_runs(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mabench.synth", "--clips", "3", "--out", str(tmp_path / "d")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    bench = load_benchmark(tmp_path / "d" / "bench.json")
    assert len(bench) == 36 and bench.has_answers and len(bench.videos) == 3
    for vid in bench.videos:
        frames = sample_frames(tmp_path / "d" / "clips" / f"{vid}.mp4", SamplingConfig())
        assert len(frames.jpegs) == 8 and 1.0 <= frames.duration + 0.04 <= 3.0 + 1e-6
