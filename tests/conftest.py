"""Shared fixtures: small benchmarks in the official format, written by the tests themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mabench.synth.questions import placeholder_records

OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "mabench_questions_official.json"

def make_records(n_clips: int, seed: int = 0, with_answers: bool = True) -> list[dict]:
    return placeholder_records(n_clips, seed, with_answers)


@pytest.fixture
def records() -> list[dict]:
    return make_records(5)


@pytest.fixture
def bench_file(tmp_path, records) -> Path:
    p = tmp_path / "bench.json"
    p.write_text(json.dumps(records, indent=2), encoding="utf-8")
    return p


@pytest.fixture
def official_file() -> Path:
    if not OFFICIAL.exists():
        pytest.skip("shared/data/mabench_questions_official.json not present (only in the dev workspace)")
    return OFFICIAL


@pytest.fixture(scope="session")
def clip_set(tmp_path_factory):
    """5 real h264 clips (clip_000..clip_004) and a matching 60-question benchmark with answers."""
    from mabench.synth import write_box_clip

    root = tmp_path_factory.mktemp("clipset")
    for i in range(5):
        write_box_clip(root / "clips" / f"clip_{i:03d}.mp4", seconds=1.0 + 0.25 * i, fps=20, seed=i)
    bench = root / "bench.json"
    bench.write_text(json.dumps(make_records(5), indent=1))
    return root


@pytest.fixture(scope="session")
def small_build_set(tmp_path_factory):
    """8 tiny synthetic clips with labels and skeletons: enough for `mabench build` to write every task."""
    from mabench.synth.generate import write_set

    root = tmp_path_factory.mktemp("small_build_set")
    write_set(root, 8, seed=5, workers=1, min_s=1.5, max_s=2.5, width=96, height=72, fps=15)
    return root


@pytest.fixture
def build_small(small_build_set):
    """`build_small(out, *flags)`: `mabench build` on `small_build_set` into `out` (no flow, half of the clips
    in the benchmark), the CliRunner result; `build_small.questions(out)`: the built questions, both splits."""
    from typer.testing import CliRunner

    from mabench.cli import app

    def run(out, *extra):
        s = small_build_set
        return CliRunner().invoke(app, ["build", str(s / "clips"), "--labels", str(s / "labels.csv"),
                                        "--skeletons", str(s / "skeletons"), "--out", str(out), "--no-flow",
                                        "--test-fraction", "0.5", "--workers", "1", *extra])

    def questions(out):
        return [q for f in ("benchmark.json", "train_questions.json") for q in json.loads((out / f).read_text())]

    run.questions = questions  # type: ignore[attr-defined]
    return run
