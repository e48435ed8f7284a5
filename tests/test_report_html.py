"""The static HTML report: built from two runs, model output shown as text, checked in headless Chromium."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

EVIL = "<script>window.__pwned=1</script><img src=x onerror=alert(1)>"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def html_report(clip_set, tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    with FakeOpenAIServer(Behaviour(reply_prefix=EVIL + " ")) as srv:
        r = subprocess.run([sys.executable, "-m", "mabench.cli", "eval", str(clip_set / "bench.json"), "--videos",
                            str(clip_set / "clips"), "--model", "openai:test-model", "--base-url", srv.base_url,
                            "--out", str(root / "evil"), "--no-progress"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "eval", str(clip_set / "bench.json"), "--model", "random",
                        "--out", str(root / "random"), "--no-progress"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = root / "report"
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "report", str(root / "evil"), str(root / "random"),
                        "--out", str(out), "--videos", str(clip_set / "clips"), "--bootstrap", "200"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return out


def test_report_folder_is_complete_and_escaped(html_report):
    for name in ("index.html", "questions.js", "browser.js", "leaderboard.md", "report.json",
                 "plots/tasks.png", "plots/tiers.png", "plots/body_parts.png", "plots/confusion_CMAR_0.png"):
        assert (html_report / name).exists(), name
    assert (html_report / "plots" / "tasks.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((html_report / "frames").glob("*.jpg"))) == 5 * 4
    data = (html_report / "questions.js").read_text()
    assert "<script" not in data and "<img" not in data  # the raw output is there, but escaped
    rows = json.loads(data.splitlines()[0].split("=", 1)[1].rstrip().rstrip(";"))
    assert len(rows) == 60 and rows[0]["runs"][0]["raw"].startswith(EVIL)
    assert len(rows[0]["frames"]) == 4
    index = (html_report / "index.html").read_text()
    assert index.count("<script") == 2  # only our two script tags
    assert "GPT-4o (paper)" not in index  # a placeholder benchmark: the paper's MA-Bench rows are not beside it
    # the paired comparison and the breakdowns are on the page, open AVG with its scale; the judge's scores
    # are named dimensions in the browser
    assert "<h2>Paired comparisons</h2>" in index and "only evil right" in index and "by coarse class" in index
    # nobody judged these runs: the open columns, empty in every row, are not shown
    assert "<th>MADU L1</th>" not in index and "<th>open AVG (0–5)</th>" not in index and "<th>CMAR</th>" in index
    assert "MABENCH_DIMENSIONS" in data


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs Debian's chromium)")
def test_headless_chromium_renders_output_as_text(html_report, tmp_path):
    page = (html_report / "index.html").resolve().as_uri()
    dom = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'p1'}",
                          "--virtual-time-budget=3000", "--dump-dom", page],
                         capture_output=True, text=True, timeout=120).stdout
    assert "page 1 / 2 (60 questions)" in dom  # the browser script ran and paged the questions
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in dom  # shown as text
    assert "<script>window.__pwned" not in dom
    assert "onerror=alert" not in dom.replace("&lt;img src=x onerror=alert(1)&gt;", "")  # only as text
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'p2'}", "--window-size=1400,3000",
                    "--virtual-time-budget=3000", f"--screenshot={shot}", page],
                   capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000
    keep = os.environ.get("MABENCH_KEEP_SCREENSHOTS")  # to look at them: a folder to copy them into
    if keep:
        shutil.copy(shot, Path(keep) / "two_runs.png")
