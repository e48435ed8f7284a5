"""Faults and bad input (issue #16): one clear line and a non-zero exit instead of a traceback or a
silent wrong result, and nothing already answered lost.

Failures are real where the machine allows it: read-only and full file systems are real tmpfs mounts
(tests run as root; where mounting is not allowed, the same commands run in-process with the OSError
injected at the open call instead), the dead server is a real server process killed mid-run, the
symlinks are real links, the bad bytes are real bytes in real files.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

CLI = [sys.executable, "-c", "from mabench.cli import app; app()"]


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def eval_args(clip_set: Path, out: Path, base_url: str | None, *extra: str, videos: Path | None = None,
              model: str = "openai:test-model") -> list[str]:
    args = ["eval", str(clip_set / "bench.json"), "--videos", str(videos or clip_set / "clips"), "--model", model,
            "--out", str(out), "--no-progress", *extra]
    return args + (["--base-url", base_url] if base_url else [])


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def one_line(stderr: str) -> str:
    """The error output is exactly one line (no traceback); returns it."""
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- real mounts, or injected errors where mounting is not allowed ----------------------------------------


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "4m"):
    """A real tmpfs at `path`; yields False (nothing mounted) where this process may not mount."""
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None or not _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)):
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def make_read_only(path: Path) -> None:
    assert _mount("-o", "remount,ro", str(path)), "remount read-only failed"


def run_injected(args: list[str], root: Path, err: int, monkeypatch) -> tuple[int, str]:
    """Run the CLI in this process with every open-for-writing under `root` failing with `err`
    (the fallback where no file system can be mounted). Returns (exit code, stderr)."""
    import builtins
    import tempfile

    from typer.testing import CliRunner

    from mabench.cli import app

    real_open, real_mkstemp = builtins.open, tempfile.mkstemp

    def under(p) -> bool:
        return str(Path(p).absolute()).startswith(str(root.absolute()))

    def fake_open(file, mode="r", *a, **kw):
        if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+") and under(file):
            raise OSError(err, os.strerror(err), str(file))
        return real_open(file, mode, *a, **kw)

    def fake_mkstemp(*a, dir=None, **kw):
        if dir is not None and under(dir):
            raise OSError(err, os.strerror(err), str(dir))
        return real_mkstemp(*a, dir=dir, **kw)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(tempfile, "mkstemp", fake_mkstemp)
    res = CliRunner().invoke(app, args)
    monkeypatch.undo()
    return res.exit_code, res.stderr if hasattr(res, "stderr") else res.output


# --- 1. a wrong --videos folder ------------------------------------------------------------------------------


def test_wrong_videos_folder_stops_before_asking_then_resume_points_to_retry_errors(clip_set, tmp_path):
    empty = tmp_path / "not-the-clips"
    empty.mkdir()
    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour()) as srv:
        r = cli(*eval_args(clip_set, out, srv.base_url, videos=empty))
        assert r.returncode == 2
        line = one_line(r.stderr)
        assert "5 of the benchmark's 5 clips are not in --videos" in line and str(empty) in line
        assert "clip_000" in line and "--allow-missing" in line
        assert len(srv.requests) == 0
        assert not (out / "scores.json").exists() and not (out / "submission.json").exists()
        assert not (out / "predictions.jsonl").exists()
        # the user insists: every question is recorded as a clip error
        r = cli(*eval_args(clip_set, out, srv.base_url, "--allow-missing", videos=empty))
        assert r.returncode == 0, r.stderr
        assert all(p["error"] for p in rows(out / "predictions.jsonl")) and len(srv.requests) == 0
        # the right folder: nothing is asked, but the run says why and what to do
        r = cli(*eval_args(clip_set, out, srv.base_url))
        assert r.returncode == 0, r.stderr
        assert "0 asked, 60 already answered" in r.stdout
        assert "60 question(s) failed in an earlier run" in r.stdout and "--retry-errors" in r.stdout
        r = cli(*eval_args(clip_set, out, srv.base_url, "--retry-errors"))
        assert r.returncode == 0, r.stderr
        assert len(srv.requests) == 60
    final = {p["qid"]: p for p in rows(out / "predictions.jsonl")}
    assert len(final) == 60 and not any(p["error"] for p in final.values())


def test_a_few_missing_clips_do_not_stop_the_run(clip_set, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    for p in sorted((clip_set / "clips").iterdir())[:3]:  # 2 of 5 missing: under half
        shutil.copy(p, clips / p.name)
    r = cli(*eval_args(clip_set, tmp_path / "run", None, videos=clips, model="random"))
    assert r.returncode == 0, r.stderr  # random needs no frames: no clip check at all
    with FakeOpenAIServer(Behaviour()) as srv:
        r = cli(*eval_args(clip_set, tmp_path / "run2", srv.base_url, videos=clips))
    assert r.returncode == 0, r.stderr
    assert "2 clip(s) could not be used" in r.stdout


# --- 2. a server that dies mid-run ---------------------------------------------------------------------------


def test_server_killed_mid_run_stops_with_connection_errors_and_resumes(clip_set, tmp_path):
    out = tmp_path / "run"
    server = subprocess.Popen([sys.executable, "-m", "mabench.testing.openai_server", "--latency", "0.05"],
                              stdout=subprocess.PIPE, text=True)
    try:
        base_url = server.stdout.readline().split()[-1]
        assert base_url.startswith("http://127.0.0.1:")
        t0 = time.time()
        proc = subprocess.Popen([*CLI, *eval_args(clip_set, out, base_url, "--concurrency", "2", "--backoff", "0.01",
                                                  "--max-retries", "1", "--max-connection-failures", "6")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        preds = out / "predictions.jsonl"
        while time.time() - t0 < 60 and not (preds.exists() and preds.read_text().count("\n") >= 12):
            time.sleep(0.02)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        server.kill()
    elapsed = time.time() - t0
    assert proc.returncode == 2, stdout + stderr
    line = one_line(stderr)
    # 6 trips the stop; a request already answered (refused) when it tripped may still be recorded
    in_a_row = re.search(r"error: (\d+) questions in a row got no answer from (\S+) ", line)
    assert in_a_row and int(in_a_row.group(1)) >= 6 and in_a_row.group(2) == base_url
    assert "connection refused" in line and "--retry-errors" in line
    got = rows(out / "predictions.jsonl")
    answered = [p for p in got if p["error"] is None]
    failed = [p for p in got if p["error"] is not None]
    assert len(answered) >= 12 and len(got) < 60, "the kill should land mid-run"
    assert failed and all(p["error"].startswith("connection failed") and p["error_kind"] == "connection"
                          for p in failed)
    assert not any("timed out" in p["error"] for p in failed) and elapsed < 60
    assert not (out / "scores.json").exists() and not (out / "submission.json").exists()
    # a new server: the same command with --retry-errors finishes, and keeps every earlier answer
    with FakeOpenAIServer(Behaviour()) as srv:
        r = cli(*eval_args(clip_set, out, srv.base_url, "--retry-errors"))
        assert r.returncode == 0, r.stderr
        assert len(srv.requests) == 60 - len(answered)
    final = {p["qid"]: p for p in rows(out / "predictions.jsonl")}
    assert len(final) == 60 and not any(p["error"] for p in final.values())
    for p in answered:
        assert final[p["qid"]]["raw_output"] == p["raw_output"]
    assert (out / "scores.json").exists()


def test_refused_connection_is_not_a_timeout():
    import asyncio

    from mabench.models.base import BackendError, Request
    from mabench.models.openai_compat import OpenAICompatBackend

    async def ask() -> BackendError:
        b = OpenAICompatBackend("m", "http://127.0.0.1:9/v1", timeout_s=120)
        try:
            await b.generate(Request("1", "SAD", "", "Up?"))
        except BackendError as e:
            return e
        finally:
            await b.aclose()
        raise AssertionError("port 9 answered")

    err = asyncio.run(ask())
    assert err.kind == "connection" and str(err) == "connection failed: connection refused" and err.retryable


# --- 3. judge with nothing to judge --------------------------------------------------------------------------


def test_judge_with_nothing_to_judge_says_so_and_writes_nothing(clip_set, tmp_path):
    out = tmp_path / "run"
    r = cli("eval", clip_set / "bench.json", "--model", "random", "--tasks", "CMAR,SAD", "--out", out,
            "--no-progress")
    assert r.returncode == 0, r.stderr
    before = (out / "scores.json").read_text()
    assert json.loads(before)["open_avg"] is None
    with FakeOpenAIServer(Behaviour(model="judge")) as srv:
        r = cli("judge", out, "--judge", "openai:judge", "--base-url", srv.base_url, "--no-cache")
        assert r.returncode == 0, r.stderr
        assert len(srv.requests) == 0
    assert "nothing to judge" in r.stdout and "CMAR, SAD" in r.stdout
    assert not (out / "judgments.jsonl").exists()
    assert (out / "scores.json").read_text() == before
    rep = tmp_path / "rep"
    r = cli("report", out, "--out", rep, "--no-html", "--bootstrap", "100")
    assert r.returncode == 0, r.stderr
    row = next(csv_rows(rep / "leaderboard.csv"))
    assert row["open AVG"] == "" and row["final"] == ""  # not 0.00


def test_judge_judges_only_questions_that_were_asked(clip_set, tmp_path):
    out = tmp_path / "run"
    r = cli("eval", clip_set / "bench.json", "--model", "random", "--limit", "12", "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    with FakeOpenAIServer(Behaviour(model="judge")) as srv:
        r = cli("judge", out, "--judge", "openai:judge", "--base-url", srv.base_url, "--no-cache")
    assert r.returncode == 0, r.stderr
    assert len(rows(out / "judgments.jsonl")) == 2  # the first clip's MADU and MARE, not the 10 of the file


def csv_rows(path: Path):
    import csv

    return iter(csv.DictReader(io.StringIO(path.read_text())))


# --- 4. OS and decode errors -------------------------------------------------------------------------------------


def test_read_only_output_folder_eval(clip_set, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    args = eval_args(clip_set, ro / "run", None, model="random")
    with tmpfs(ro) as mounted:
        if mounted:
            make_read_only(ro)
            r = cli(*args)
            code, err = r.returncode, r.stderr
        else:
            code, err = run_injected(args, ro, errno.EROFS, monkeypatch)
    assert code == 2
    line = one_line(err)
    assert str(ro / "run") in line and "read-only" in line and "writable output folder" in line


def test_read_only_run_folder_judge_and_report(clip_set, tmp_path, monkeypatch):
    src = tmp_path / "src-run"
    r = cli("eval", clip_set / "bench.json", "--model", "random", "--out", src, "--no-progress")
    assert r.returncode == 0, r.stderr
    ro = tmp_path / "ro"
    with tmpfs(ro) as mounted, FakeOpenAIServer(Behaviour(model="judge")) as srv:
        run = ro / "run"
        shutil.copytree(src, run)
        before = (run / "predictions.jsonl").read_bytes()
        judge = ["judge", str(run), "--judge", "openai:judge", "--base-url", srv.base_url, "--no-cache"]
        report = ["report", str(run), "--out", str(ro / "report"), "--no-html", "--bootstrap", "100"]
        if mounted:
            make_read_only(ro)
            results = [(x.returncode, x.stderr) for x in (cli(*judge), cli(*report))]
        else:
            results = [run_injected(judge, ro, errno.EROFS, monkeypatch),
                       run_injected(report, ro, errno.EROFS, monkeypatch)]
        assert (run / "predictions.jsonl").read_bytes() == before
    (code_j, err_j), (code_r, err_r) = results
    assert code_j == 2 and code_r == 2
    line = one_line(err_j)
    assert "judgments.jsonl" in line and "read-only" in line
    line = one_line(err_r)
    assert str(ro / "report") in line and "read-only" in line


def test_full_disk_mid_run_keeps_every_finished_answer(clip_set, tmp_path, monkeypatch):
    small = tmp_path / "small"
    with tmpfs(small, size="12k") as mounted:  # config.json and .lock take a page each; predictions get one more
        if not mounted:
            pytest.skip("cannot mount a small tmpfs here; the injected variant below covers the message")
        out = small / "run"
        r = cli(*eval_args(clip_set, out, None, "--concurrency", "2", model="random"))
        assert r.returncode == 2, r.stdout + r.stderr
        line = one_line(r.stderr)
        assert "no space left on device" in line and "free some space" in line
        assert f"finished answers are kept in {out / 'predictions.jsonl'}" in line
        assert not (out / "scores.json").exists()
        kept = out.parent.parent / "kept"
        shutil.copytree(out, kept)
    text = (kept / "predictions.jsonl").read_text()
    whole = [json.loads(x) for x in text.splitlines(keepends=True) if x.endswith("\n")]
    assert 5 <= len(whole) < 60, "the disk should fill mid-run"
    r = cli(*eval_args(clip_set, kept, None, "--concurrency", "2", model="random"))
    assert r.returncode == 0, r.stderr
    assert f"{len(whole)} already answered" in r.stdout
    final = {p["qid"]: p for p in rows(kept / "predictions.jsonl")}
    assert len(final) == 60 and all(final[p["qid"]]["pred_answer"] == p["pred_answer"] for p in whole)


def test_full_disk_injected_at_open(clip_set, tmp_path, monkeypatch):
    """The same message where no tmpfs can be mounted: ENOSPC raised by the open call itself."""
    out = tmp_path / "run"
    code, err = run_injected(eval_args(clip_set, out, None, model="random"), out, errno.ENOSPC, monkeypatch)
    assert code == 2
    line = one_line(err)
    assert "no space left on device" in line and "free some space" in line


def _latin1(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("latin-1"))
    return path


def test_non_utf8_benchmark_for_info_and_eval(clip_set, tmp_path):
    recs = json.loads((clip_set / "bench.json").read_text())
    recs[0]["question"] += " Café?"
    bad = _latin1(tmp_path / "bench-latin1.json", json.dumps(recs, ensure_ascii=False))
    for args in (["info", bad], ["eval", bad, "--model", "random", "--out", tmp_path / "run", "--no-progress"]):
        r = cli(*args)
        assert r.returncode == 2
        line = one_line(r.stderr)
        assert str(bad) in line and "not UTF-8" in line and "byte 0xe9" in line and "save" in line
    assert not (tmp_path / "run").exists()


def test_non_utf8_labels_file_for_build(clip_set, tmp_path):
    skeletons = tmp_path / "sk"
    skeletons.mkdir()
    labels = _latin1(tmp_path / "labels.csv", "clip,label\nclip_000.mp4,Nodding\nclip_001.mp4,Hoché\n")
    r = cli("build", clip_set / "clips", "--labels", labels, "--skeletons", skeletons, "--out", tmp_path / "b")
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert str(labels) in line and "not UTF-8" in line


def test_malformed_middle_line_is_named_and_repair_sets_it_aside(clip_set, tmp_path):
    out = tmp_path / "run"
    args = ["eval", clip_set / "bench.json", "--model", "random", "--out", out, "--no-progress"]
    r = cli(*args, "--limit", "24")
    assert r.returncode == 0, r.stderr
    preds = out / "predictions.jsonl"
    lines = preds.read_text().splitlines(keepends=True)
    lines[4] = '{"qid": "broken", "raw_out\n'  # a half-written line in the middle
    lines[9] = "caf\xe9 not json\n"
    preds.write_bytes("".join(lines[:9]).encode() + b"caf\xe9 \xff not json\n" + "".join(lines[10:]).encode())
    before = preds.read_bytes()
    r = cli(*args)
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert f"{preds}: invalid JSON at line 5" in line and "--repair" in line and "nothing was changed" in line
    assert preds.read_bytes() == before
    r = cli(*args, "--repair")
    assert r.returncode == 0, r.stderr
    assert "2 unreadable line(s)" in r.stdout and "line 5, 10" in r.stdout
    bad = (out / "predictions.jsonl.bad").read_bytes()
    assert b'"qid": "broken"' in bad and b"\xff not json" in bad
    kept = [json.loads(x) for i, x in enumerate(before.split(b"\n")) if x and i not in (4, 9)]
    final = {p["qid"]: p for p in rows(preds)}
    assert len(final) == 60
    assert all(final[p["qid"]]["pred_answer"] == p["pred_answer"] for p in kept)
    assert "22 already answered" in r.stdout  # the two lost lines' questions were asked again


def test_all_nan_skeleton_is_a_clear_per_clip_error(tmp_path):
    from mabench.motion.annotate import AnnotateSettings, annotate_clip
    from mabench.synth import write_box_clip

    clip = tmp_path / "clips" / "c1.mp4"
    write_box_clip(clip, seconds=1.0, fps=20, seed=0)
    sk = tmp_path / "sk"
    sk.mkdir()
    coco = [{"image_id": f"{i}.jpg", "keypoints": [float("nan")] * 51, "score": 1.0} for i in range(20)]
    (sk / "c1.json").write_text(json.dumps(coco))  # NaN is what json.dumps writes for nan
    rec = annotate_clip(clip, AnnotateSettings(skeletons=str(sk), flow=True))
    assert rec["clip"] == "c1.mp4"
    assert "no usable keypoints" in rec["error"] and str(sk / "c1.json") in rec["error"]
    assert "cannot convert" not in rec["error"]


# --- 5. symlinks inside --videos -------------------------------------------------------------------------------


def test_symlinked_clips_are_followed_unsafe_names_still_refused(clip_set, tmp_path):
    # the Hugging Face cache layout: snapshots/<rev>/<name> -> ../../blobs/<hash>
    blobs = tmp_path / "hf" / "blobs"
    snap = tmp_path / "hf" / "snapshots" / "abc123"
    blobs.mkdir(parents=True)
    snap.mkdir(parents=True)
    for i, p in enumerate(sorted((clip_set / "clips").iterdir())):
        shutil.copy(p, blobs / f"blob{i}")
        (snap / p.name).symlink_to(Path("../../blobs") / f"blob{i}")
    # and an `ln -s` farm: a folder link inside --videos
    (snap / "more").symlink_to(clip_set / "clips", target_is_directory=True)
    recs = json.loads((clip_set / "bench.json").read_text())[:24]
    for r in recs[12:]:
        r["video_name"] = "more/" + r["video_name"]
    recs.append({"video_name": "../../blobs/blob0", "task": "SAD", "qid": "escape", "question": "Up?",
                 "answer": "Yes"})
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(recs))
    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour()) as srv:
        r = cli("eval", bench, "--videos", snap, "--model", "openai:test-model", "--base-url", srv.base_url,
                "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    by = {p["qid"]: p for p in rows(out / "predictions.jsonl")}
    assert "unsafe video name" in by.pop("escape")["error"]
    assert len(by) == 24 and not any(p["error"] for p in by.values())
    assert len(srv.requests) == 24


# --- 6. config.json paths and --key ------------------------------------------------------------------------------


def test_config_paths_are_absolute_and_messages_mention_key(clip_set, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(clip_set / "bench.json", work / "bench.json")
    r = cli("eval", "bench.json", "--model", "random", "--out", "run", "--no-progress", cwd=work)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((work / "run" / "config.json").read_text())
    assert cfg["benchmark"]["path"] == str(work / "bench.json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = cli("report", work / "run", "--out", "rep", "--no-html", "--bootstrap", "100", cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    # a run made before paths were absolute, read from another folder
    cfg["benchmark"]["path"] = "bench.json"
    (work / "run" / "config.json").write_text(json.dumps(cfg))
    for args in (["report", work / "run", "--out", "rep2", "--no-html"],
                 ["judge", work / "run", "--judge", "openai:j", "--base-url", "http://127.0.0.1:9/v1"]):
        r = cli(*args, cwd=elsewhere)
        assert r.returncode == 2
        line = one_line(r.stderr)
        assert "(bench.json) is not there" in line and "--key BENCH" in line
    r = cli("report", work / "run", "--out", "rep3", "--no-html", "--bootstrap", "100", "--key",
            work / "bench.json", cwd=elsewhere)
    assert r.returncode == 0, r.stderr


# --- 7. silent emptiness -------------------------------------------------------------------------------------------


def test_report_on_an_empty_folder_or_empty_predictions(clip_set, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("report", empty, "--out", tmp_path / "rep", "--no-html")
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "no config.json" in line and "mabench eval" in line and "Errno" not in line
    run = tmp_path / "run"
    assert cli("eval", clip_set / "bench.json", "--model", "random", "--out", run, "--no-progress",
               "--limit", "12").returncode == 0
    (run / "predictions.jsonl").write_text("")
    r = cli("report", run, "--out", tmp_path / "rep", "--no-html")
    assert r.returncode == 2
    assert "holds no answers" in one_line(r.stderr)
    assert not (tmp_path / "rep" / "leaderboard.csv").exists()


def test_report_warns_about_a_partial_run(clip_set, tmp_path):
    run = tmp_path / "run"
    assert cli("eval", clip_set / "bench.json", "--model", "random", "--out", run, "--no-progress",
               "--limit", "12").returncode == 0
    r = cli("report", run, "--out", tmp_path / "rep", "--no-html", "--bootstrap", "100")
    assert r.returncode == 0, r.stderr
    assert "48 of 60 questions have no answer and count as wrong" in r.stderr


# --- 8. unbounded model output ----------------------------------------------------------------------------------


def test_model_output_is_capped_and_the_report_pages_it(clip_set, tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour(reply_padding=300_000)) as srv:
        r = cli(*eval_args(clip_set, out, srv.base_url, "--limit", "12", "--max-output-bytes", "4096"))
    assert r.returncode == 0, r.stderr
    got = rows(out / "predictions.jsonl")
    assert len(got) == 12 and (out / "predictions.jsonl").stat().st_size < 12 * 10_000
    for p in got:
        assert len(p["raw_output"].encode()) <= 4096
        assert p["truncated"]["raw_output_bytes"] > 300_000 and p["truncated"]["kept_bytes"] == 4096
    closed = [p for p in got if p["task"] not in ("MADU", "MARE")]
    # the answer at the end of the long reply is still read (extraction sees the whole reply)
    assert all(p["pred_answer"] is not None and p["error"] is None for p in closed)
    assert all(len(p["pred_answer"].encode()) <= 4096 for p in got)
    pytest.importorskip("jinja2")
    pytest.importorskip("matplotlib")
    rep = tmp_path / "rep"
    r = cli("report", out, "--out", rep, "--bootstrap", "100")
    assert r.returncode == 0, r.stderr
    js = (rep / "questions.js").read_text()
    assert len(js) < 500_000
    size = got[0]["truncated"]["raw_output_bytes"]
    assert f"truncated, {size} bytes; more in run/predictions.jsonl" in js


def test_cap_text_keeps_whole_characters():
    from mabench.evaluation.runner import cap_text

    assert cap_text("short", 1024) == ("short", None)
    text, size = cap_text("é" * 3000, 1025)  # 2 bytes each: the cut lands mid-character
    assert text == "é" * 512 and size == 6000


# --- 9. spreadsheet formula injection -----------------------------------------------------------------------------


def test_formula_cells_are_neutralised_in_leaderboard_csv(clip_set, tmp_path):
    run = tmp_path / '=HYPERLINK("evil.example","x")'
    r = cli("eval", clip_set / "bench.json", "--model", "random", "--out", run, "--no-progress")
    assert r.returncode == 0, r.stderr
    rep = tmp_path / "rep"
    r = cli("report", run, "--out", rep, "--no-html", "--bootstrap", "100")
    assert r.returncode == 0, r.stderr
    row = next(csv_rows(rep / "leaderboard.csv"))
    assert row["model"] == "'" + run.name
    assert float(row["closed AVG"]) >= 0  # numbers stay numbers


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1+cmd", "@SUM(A1)", "\t=x"])
def test_csv_safe(cell):
    from mabench.report.leaderboard import csv_safe

    assert csv_safe(cell) == "'" + cell
    assert csv_safe("model-a") == "model-a" and csv_safe(-1.5) == -1.5
