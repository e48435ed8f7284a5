"""The reliance report against test models whose reliance is known (`mabench.testing.stamps`): a built benchmark
of 100 synthetic clips whose frames carry stamps, one model that reads the stamps' order and one that ignores the
frames, each run plain and under `reverse`, `shuffle` and `blank`, then `mabench report --controls`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mabench.testing.openai_server import Behaviour, FakeOpenAIServer
from mabench.testing.stamps import PRIOR, StampModel, write_stamped_clip

N_CLIPS = 100
YES_NO = ("SAD", "MAD", "MAS", "PPR")
CONTROLS = ("reverse", "shuffle", "blank")


@pytest.fixture(scope="module")
def stamped(tmp_path_factory):
    """100 synthetic clips (skeletons from the generator, frames that carry stamps) built into one benchmark."""
    from mabench.synth.generate import write_set

    root = tmp_path_factory.mktemp("stamped")
    labels = write_set(root / "synth", N_CLIPS, seed=21, video=False, workers=2, min_s=1.5, max_s=2.5)
    numbers = {}
    for k, sk in enumerate(sorted((root / "synth" / "skeletons").glob("*.json"))):
        d = json.loads(sk.read_text())
        times = d["times"]
        fps = (len(times) - 1) / (times[-1] - times[0])
        write_stamped_clip(root / "clips" / f"{sk.stem}.mp4", k, len(times), fps, d["width"], d["height"])
        numbers[sk.stem] = k
    (root / "numbers.json").write_text(json.dumps(numbers))
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "build", str(root / "clips"), "--labels", str(labels),
                        "--skeletons", str(root / "synth" / "skeletons"), "--no-flow", "--test-fraction", "1",
                        "--corpus-frames", "0", "--workers", "2", "--out", str(root / "built")],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return root


def _runs(stamped: Path, mode: str, out: Path) -> dict[str, Path]:
    bench = stamped / "built" / "benchmark.json"
    model = StampModel(json.loads(bench.read_text()), json.loads((stamped / "numbers.json").read_text()), mode)
    runs = {}
    with FakeOpenAIServer(Behaviour(stamp_model=model)) as srv:
        for control in ("none", *CONTROLS):
            runs[control] = out / control
            r = subprocess.run([sys.executable, "-m", "mabench.cli", "eval", str(bench), "--videos",
                                str(stamped / "clips"), "--model", "openai:test-model", "--base-url", srv.base_url,
                                "--out", str(runs[control]), "--no-progress", "--control", control],
                               capture_output=True, text=True, timeout=600)
            assert r.returncode == 0, r.stderr[-2000:]
    return runs


def _report(runs: dict[str, Path], out: Path, *extra: str) -> dict:
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "report", str(runs["none"]), "--out", str(out),
                        "--no-html", "--no-paper", *[a for c in CONTROLS for a in ("--controls", str(runs[c]))],
                        *extra],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Reliance on the video" in r.stdout and "Reliance on the video" in (out / "leaderboard.md").read_text()
    return json.loads((out / "report.json").read_text())["reliance"]


def test_a_model_that_reads_the_frames_relies_on_their_order(stamped, tmp_path):
    bench = json.loads((stamped / "built" / "benchmark.json").read_text())
    assert len({q["video_name"] for q in bench}) >= N_CLIPS
    audit = subprocess.run([sys.executable, "-m", "mabench.cli", "audit", str(stamped / "built" / "benchmark.json"),
                            "--out", str(tmp_path / "audit")], capture_output=True, text=True, timeout=600)
    assert audit.returncode == 0, audit.stderr[-2000:]
    rel = _report(_runs(stamped, "reads", tmp_path), tmp_path / "report", "--audit", str(tmp_path / "audit"))
    cells = {e["control"]: e["groups"] for e in rel["controls"]}
    # with --audit, each closed task split into what a text-only model answers and the rest, the two adding up
    for e in rel["controls"]:
        for task, subsets in e["audit_split"].items():
            assert sum(c["asked"] for c in subsets.values()) == cells[e["control"]][task]["asked"], task
            assert all(c["original"] == 100.0 for c in subsets.values() if c["n"])
    for task in ("CMAR", "FMAR", *YES_NO):
        assert cells["reverse"][task]["original"] == 100.0  # the frames in order: the key
    # reverse: right against the reversed truth on every question that has one
    with_rev = [q for q in bench if "reversed_answer" in q["meta"]]
    assert len(with_rev) >= 200
    for task in YES_NO:
        rt = cells["reverse"][task].get("reversed_truth")
        n = sum(q["task"] == task for q in with_rev)
        assert (rt is None and n == 0) or (rt["n"] == n and rt["accuracy"] == 100.0), (task, rt)
    # shuffle: chance on the Yes/No tasks. The model's coin is seeded by each request, so whether a task's 95% CI
    # covers 50% is itself a coin (1 in 20 per task, and any change to the built questions reseeds it): the control
    # must lie within three binomial standard errors of 50% instead (a frame-reading model would be at 100%)
    for task in YES_NO:
        cell = cells["shuffle"][task]
        assert abs(cell["control"] - 50.0) <= 300 * (0.25 / cell["n"]) ** 0.5, (task, cell["control"], cell["n"])
    # blank: exactly the designed prior (Yes; the first option)
    for task in ("CMAR", "FMAR", *YES_NO):
        qs = [q for q in bench if q["task"] == task]
        prior = PRIOR["choice"] if task in ("CMAR", "FMAR") else PRIOR["yes/no"]
        want = 100.0 * sum(q["answer"] == prior for q in qs) / len(qs)
        assert cells["blank"][task]["control"] == pytest.approx(want, abs=0.01), task
    for task in ("CMAR", "FMAR", *YES_NO):
        assert "rely on frame order" in rel["verdicts"][task], rel["verdicts"][task]


def test_a_model_that_ignores_the_frames_depends_on_none_of_them(stamped, tmp_path):
    rel = _report(_runs(stamped, "ignores", tmp_path), tmp_path / "report")
    for e in rel["controls"]:
        for group, c in e["groups"].items():
            lo, hi = c["ci95"]
            assert lo <= 0.0 <= hi and c["changed"] == 0.0, (e["control"], group, c)
    for v in rel["verdicts"].values():
        assert "do not depend on the frames" in v, v
