"""`mabench sweep`: a grid of strategies x frame settings against the test server in "cot" shape mode
(right only under cot), ranked with paired bootstrap differences; resume; the one-cell default."""

import json
import subprocess
import sys

import pytest
import yaml

from mabench.sweep import SweepError, load_config, run_sweep
from mabench.testing.openai_server import Behaviour, FakeOpenAIServer


@pytest.fixture(scope="module")
def dev(clip_set, tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    rows = json.loads((clip_set / "bench.json").read_text())
    ev = [r for r in rows if r["video_name"] in ("clip_000", "clip_001", "clip_002") and r["task"] in ("CMAR", "FMAR")]
    (root / "dev.json").write_text(json.dumps(ev))
    return root, {r["question"]: r["answer"] for r in ev}


def write_cfg(root, url, **axes):
    cfg = {"benchmark": "dev.json", "videos": str(root.parent / "clips"), "model": "openai:test-model",
           "base_url": url, "concurrency": 2, "n_boot": 500, **axes}
    p = root / "sweep.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_sweep_ranks_cells_against_the_baseline_and_resumes(clip_set, dev, tmp_path):
    root, key = dev
    cfg_dir = clip_set / "cfg_a"
    cfg_dir.mkdir(exist_ok=True)
    (cfg_dir / "dev.json").write_text((root / "dev.json").read_text())
    with FakeOpenAIServer(Behaviour(key=key, shape="cot", count_tokens=True)) as srv:
        cfg = load_config(write_cfg(cfg_dir, srv.base_url, strategies=["zero-shot", "cot", "vote:3"], frames=[4, 8]),
                          out=tmp_path / "sw")
        res = run_sweep(cfg)
        asked = len(srv.requests)
        again = run_sweep(cfg)  # every cell finished: nothing is asked again
        assert len(srv.requests) == asked
    assert asked == 6 * (1 + 1 + 3) * 2  # 6 questions; vote:3 asks three times; two frame settings
    assert [c.cell.strategy for c in res.cells[:2]] == ["cot", "cot"] and res.cells[0].score == 100.0
    base = next(c for c in res.cells if c.cell.name == res.baseline)
    assert base.cell.strategy == "zero-shot" and base.cell.frames == 4 and base.score == 0.0
    top = res.cells[0]
    assert top.diff == 100.0 and top.p is not None and top.p < 0.05
    vote = next(c for c in res.cells if c.cell.strategy == "vote:3")
    assert vote.requests_per_q == 3.0 and vote.prompt_tokens_per_q > 2.9 * base.prompt_tokens_per_q
    cot = next(c for c in res.cells if c.cell.strategy == "cot" and c.cell.frames == 4)
    assert cot.completion_tokens_per_q > 10 * base.completion_tokens_per_q  # the reasoning costs tokens
    eight = next(c for c in res.cells if c.cell.strategy == "zero-shot" and c.cell.frames == 8)
    assert eight.prompt_tokens_per_q > base.prompt_tokens_per_q + 4 * 250  # 4 more frames per question
    assert res.warnings and "small" in res.warnings[0]
    assert [c.cell.name for c in again.cells] == [c.cell.name for c in res.cells]
    assert again.cells[0].wall_s == res.cells[0].wall_s  # the wall time of the run that asked
    assert any((tmp_path / "sw" / "frame_cache").iterdir())  # one cache shared by the cells
    md = (tmp_path / "sw" / "sweep.md").read_text()
    assert "| 1 | cot, prompts=default, frames=4, uniform | 100.00 |" in md and "(baseline)" in md
    assert (tmp_path / "sw" / "sweep.html").exists()
    assert json.loads((tmp_path / "sw" / "sweep.json").read_text())["cells"][0]["strategy"] == "cot"


def test_sweep_without_a_grid_is_one_zero_shot_cell_from_the_cli(clip_set, dev, tmp_path):
    root, key = dev
    cfg_dir = clip_set / "cfg_b"
    cfg_dir.mkdir(exist_ok=True)
    (cfg_dir / "dev.json").write_text((root / "dev.json").read_text())
    with FakeOpenAIServer(Behaviour(key=key)) as srv:
        p = write_cfg(cfg_dir, srv.base_url)
        r = subprocess.run([sys.executable, "-m", "mabench.cli", "sweep", str(p), "--out", str(tmp_path / "one")],
                           capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads((tmp_path / "one" / "sweep.json").read_text())
    assert [c["cell"] for c in out["cells"]] == ["zero-shot, prompts=default, frames=8, uniform"]
    assert out["cells"][0]["score"] == 100.0 and "Sweep: 1 cells" in r.stdout


def test_sweep_config_errors_are_clear(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump({"benchmark": "b.json", "model": "random", "strategie": ["cot"]}))
    with pytest.raises(SweepError, match="unknown keys strategie"):
        load_config(p)
    p.write_text(yaml.safe_dump({"benchmark": "b.json", "model": "random", "strategies": ["fewshot:2"]}))
    with pytest.raises(SweepError, match="support"):
        load_config(p)
    p.write_text(yaml.safe_dump({"benchmark": "b.json", "model": "random", "strategies": ["cot"],
                                 "baseline": "vote:3"}))
    with pytest.raises(SweepError, match="baseline"):
        load_config(p)


def test_sweep_prompt_axis_sends_each_prompt_file(clip_set, dev, tmp_path):
    """The prompts axis: a file whose prompts carry what the "definitions" shape checks for wins."""
    root, key = dev
    cfg_dir = clip_set / "cfg_c"
    cfg_dir.mkdir(exist_ok=True)
    (cfg_dir / "dev.json").write_text((root / "dev.json").read_text())
    text = "Conventions: sides are the person's own. Coarse classes: ... Fine labels: ..."
    (cfg_dir / "mine.yaml").write_text(yaml.safe_dump({"CMAR": text, "FMAR": text}))
    with FakeOpenAIServer(Behaviour(key=key, shape="definitions")) as srv:
        res = run_sweep(load_config(write_cfg(cfg_dir, srv.base_url, prompts={"default": None, "mine": "mine.yaml"}),
                                    out=tmp_path / "p"))
    assert [(c.cell.prompts, c.score) for c in res.cells] == [("mine", 100.0), ("default", 0.0)]
    assert res.baseline == "zero-shot, prompts=default, frames=8, uniform"


def test_sweep_ranks_by_final_once_every_cell_is_judged(clip_set, tmp_path):
    import mabench

    rows = [r for r in json.loads((clip_set / "bench.json").read_text()) if r["video_name"] in ("clip_000", "clip_001")]
    (tmp_path / "dev.json").write_text(json.dumps(rows))
    key = {r["question"]: r["answer"] for r in rows}
    with FakeOpenAIServer(Behaviour(key=key, shape="cot")) as srv:
        cfg = load_config(write_cfg(tmp_path, srv.base_url, strategies=["zero-shot", "cot"],
                                    videos=str(clip_set / "clips")), out=tmp_path / "sw")
        first = run_sweep(cfg)
        assert all(c.final is None for c in first.cells) and first.metric.startswith("closed")  # open not judged yet
        for c in first.cells:
            mabench.judge(c.run, ["openai:test-model"], base_url=srv.base_url, cache=tmp_path / "judge.sqlite")
        judged = run_sweep(cfg)
    finals = {c.cell.strategy: c.final for c in judged.cells}
    assert all(v is not None for v in finals.values()) and judged.metric.startswith("final score")
    assert [c.final for c in judged.cells] == sorted(finals.values(), reverse=True)  # ranked by final
    for c in judged.cells:  # the same number `mabench score` gives for the cell
        assert abs(mabench.score(c.run).final - c.final) < 0.01
    assert "| final |" in (tmp_path / "sw" / "sweep.md").read_text()
