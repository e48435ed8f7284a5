"""`mabench demo`: the README's main command, offline, as a fresh process."""

import json
import subprocess
import sys


def test_demo_runs_offline_end_to_end(tmp_path):
    out = tmp_path / "demo"
    r = subprocess.run([sys.executable, "-c", "from mabench.cli import app; app()", "demo", "--out", str(out),
                        "--clips", "8"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Open the report:" in r.stdout
    index = out / "report" / "index.html"
    assert index.exists() and (out / "report" / "plots" / "tasks.png").exists()
    rep = json.loads((out / "report" / "report.json").read_text())
    assert [run["name"] for run in rep["runs"]][:2] == ["random", "prior"]
    assert rep["benchmark"]["questions"] >= 8 * 11
    bench = json.loads((out / "built" / "benchmark.json").read_text())
    assert {q["task"] for q in bench} == {"CMAR", "FMAR", "SAD", "MAD", "MAS", "PPR", "MADU", "MARE"}
    assert "paper's published numbers" not in index.read_text()  # a synthetic benchmark: no paper rows


def test_demo_without_the_report_extra_says_so_before_working(tmp_path):
    """Without matplotlib the demo stops at once with the install line (it used to work 14 s first)."""
    import time

    code = "import sys; sys.modules['matplotlib'] = None; from mabench.cli import app; app()"
    t0 = time.time()
    r = subprocess.run([sys.executable, "-c", code, "demo", "--out", str(tmp_path / "d")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "needs the report extra (matplotlib missing)" in r.stderr
    assert 'pip install "mabench[report]"' in r.stderr
    assert not (tmp_path / "d").exists() and time.time() - t0 < 30
