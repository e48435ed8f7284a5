"""The training corpus: frames that are `mabench eval`'s, every format's schema, clips kept out, a bad clip.

The identity test sends the corpus clips' questions through `mabench eval` (a real subprocess) to a
recording server and compares the JPEG bytes of every request with the corpus's frame files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

N_CLIPS = 24


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _video_item(sample: dict) -> dict:
    user = next(m for m in sample["messages"] if m["role"] == "user")
    return next(c for c in user["content"] if c["type"] == "video")


@pytest.fixture(scope="module")
def corpus24(tmp_path_factory):
    """24 synthetic clips larger than eval's 640-px side (so eval's resize is part of what must match),
    all in the corpus (test fraction 0)."""
    from mabench.synth.generate import write_set

    root = tmp_path_factory.mktemp("corpus24")
    labels = write_set(root / "synth", N_CLIPS, seed=11, workers=2, width=704, height=528, fps=15, min_s=1.0,
                       max_s=1.6)
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "build", str(root / "synth" / "clips"), "--labels",
                        str(labels), "--skeletons", str(root / "synth" / "skeletons"), "--no-flow", "--test-fraction",
                        "0", "--workers", "2", "--out", str(root / "built")], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return root


def test_corpus_frames_are_the_bytes_mabench_eval_sends(corpus24, tmp_path):
    corpus = corpus24 / "built" / "corpus"
    chat = _jsonl(corpus / "chat.jsonl")
    by_clip: dict[str, tuple[bytes, ...]] = {}
    for s in chat:
        v = _video_item(s)
        frames = tuple(Path(f).read_bytes() for f in v["frames"])
        assert by_clip.setdefault(s["clip"], frames) == frames  # one set of frames per clip, shared by its samples
        assert len(v["timestamps"]) == len(frames) == 8 and v["timestamps"] == sorted(v["timestamps"])
    assert len(by_clip) == N_CLIPS
    owner = {frames: clip for clip, frames in by_clip.items()}
    assert len(owner) == N_CLIPS  # no two clips share frames: a request names its clip by its frames

    with FakeOpenAIServer(Behaviour(record_bodies=True)) as srv:
        r = subprocess.run([sys.executable, "-m", "mabench.cli", "eval",
                            str(corpus24 / "built" / "train_questions.json"), "--videos",
                            str(corpus24 / "synth" / "clips"), "--model", "openai:test-model", "--base-url",
                            srv.base_url, "--out", str(tmp_path / "run"), "--no-progress"],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        bodies = [q["body"] for q in srv.requests]
    seen: dict[str, int] = {}
    for body in bodies:
        user = body["messages"][-1]["content"]
        sent = tuple(base64.b64decode(p["image_url"]["url"].split(",", 1)[1]) for p in user
                     if p.get("type") == "image_url")
        assert sent in owner, "a request carried frames that are not a corpus clip's"
        seen[owner[sent]] = seen.get(owner[sent], 0) + 1
    questions = json.loads((corpus24 / "built" / "train_questions.json").read_text())
    per_clip = {c: sum(q["video_name"] == c for q in questions) for c in by_clip}
    assert seen == per_clip  # every clip's every question, each with that clip's corpus frames

    # the frame rates recorded: the clip's own, and the one its frames were taken at
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert manifest["frames"]["counts"] == [8] and manifest["frames"]["source_fps"] == [15.0]
    v = _video_item(chat[0])
    span = v["timestamps"][-1] - v["timestamps"][0]
    assert v["sample_fps"] == pytest.approx(7 / span, rel=1e-4)


def test_every_format_points_at_the_same_frames(corpus24):
    corpus = corpus24 / "built" / "corpus"
    chat = _jsonl(corpus / "chat.jsonl")
    frames = {s["id"]: _video_item(s)["frames"] for s in chat}
    answers = {s["id"]: s["messages"][-1]["content"][0]["text"] for s in chat}

    # LLaMA-Factory (its docs' sharegpt video layout): one <video> tag per entry of `videos`, and a video given as
    # a list of frame files is taken as its frames
    lf = json.loads((corpus / "llamafactory.json").read_text())
    info = json.loads((corpus / "dataset_info.json").read_text())["mabench_train"]
    assert info["file_name"] == "llamafactory.json" and info["formatting"] == "sharegpt"
    assert info["columns"] == {"messages": "messages", "system": "system", "videos": "videos"}
    assert [row["videos"][0] for row in lf] == [frames[s["id"]] for s in chat]
    for row in lf:
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"] and row["system"]
        assert row["messages"][0]["content"].count("<video>") == len(row["videos"]) == 1

    # ms-swift: messages with a system turn, <video> in the user text, `videos` a frame list
    sw = _jsonl(corpus / "swift.jsonl")
    assert [row["videos"][0] for row in sw] == [frames[s["id"]] for s in chat]
    assert all([m["role"] for m in row["messages"]] == ["system", "user", "assistant"] and
               row["messages"][1]["content"].startswith("<video>") for row in sw)

    # TRL: the frames as an image list, plain-text messages (TRL adds one image placeholder per image)
    tr = _jsonl(corpus / "trl.jsonl")
    assert {row["id"]: row["images"] for row in tr} == frames
    assert {row["id"]: row["messages"][-1]["content"] for row in tr} == answers
    assert all("<video>" not in m["content"] and "<image>" not in m["content"] for row in tr for m in row["messages"])

    # the Qwen-VL repo: its loader reads one video path per <video>
    qw = json.loads((corpus / "qwen.json").read_text())
    assert all(Path(row["video"]).is_file() and row["conversations"][0]["value"].count("<video>") == 1 for row in qw)

    readme = (corpus / "README.md").read_text()
    rate = json.loads((corpus / "manifest.json").read_text())["frames"]["sample_fps"]["median"]
    for flags in ("--frames 8", f"--video_fps {rate}", f"FPS={rate} swift sft", "--video_min_frames 8 "
                  "--video_max_frames 8", 'data_dict["mabench_train"]', "--dataset mabench_train"):
        assert flags in readme, flags


def test_no_frames_gives_video_paths_and_the_flags_that_keep_eight(build_small, tmp_path):
    r = build_small(tmp_path / "b", "--corpus-frames", "0")
    assert r.exit_code == 0, r.output
    corpus = tmp_path / "b" / "corpus"
    assert not (corpus / "frames").exists()
    assert all("frames" not in _video_item(s) for s in _jsonl(corpus / "chat.jsonl"))
    assert all(isinstance(row["videos"][0], str) for row in _jsonl(corpus / "swift.jsonl"))
    assert _jsonl(corpus / "trl.jsonl") == []
    readme = (corpus / "README.md").read_text()
    assert "--video_maxlen 8" in readme and "FPS_MIN_FRAMES=8 FPS_MAX_FRAMES=8" in readme
    assert json.loads((corpus / "manifest.json").read_text())["frames"] is None


def test_exclude_clips_with_a_benchmark_file_keeps_its_clips_out(build_small, tmp_path):
    first = tmp_path / "first"
    assert build_small(first).exit_code == 0
    bench = first / "benchmark.json"
    held = {q["video_name"] for q in json.loads(bench.read_text())}
    plain = tmp_path / "plain"
    assert build_small(plain, "--seed", "3").exit_code == 0
    would = {s["clip"] for s in _jsonl(plain / "corpus" / "chat.jsonl")} & held
    assert would, "the two splits must overlap for this test to mean anything"

    second = tmp_path / "second"
    r = build_small(second, "--seed", "3", "--exclude-clips", str(bench))
    assert r.exit_code == 0, r.output
    corpus_clips = {s["clip"] for s in _jsonl(second / "corpus" / "chat.jsonl")}
    assert corpus_clips and not corpus_clips & held
    assert not {Path(p).parent.name for p in (second / "corpus" / "frames").glob("*/*.jpg")} & held
    for name in ("swift.jsonl", "trl.jsonl"):
        assert not any(held & {Path(f).parent.name for f in row.get("images", row.get("videos", [[]])[0])}
                       for row in _jsonl(second / "corpus" / name))
    excluded = json.loads((second / "corpus" / "manifest.json").read_text())["excluded"]
    assert excluded["excluded"] == len(would) and excluded["listed"] == len(held)
    assert excluded["sha256"] == hashlib.sha256(bench.read_bytes()).hexdigest() and excluded["kind"] == "benchmark"


def test_exclude_clips_with_a_list_and_a_bad_file(build_small, tmp_path):
    base = tmp_path / "base"
    assert build_small(base).exit_code == 0
    train = sorted({s["clip"] for s in _jsonl(base / "corpus" / "chat.jsonl")})
    listing = tmp_path / "keep_out.txt"
    listing.write_text(f"# clips of another benchmark\n{train[0]}.mp4\n{train[1]} 3\n")
    r = build_small(base, "--exclude-clips", str(listing))  # a rerun of the same build, two clips kept out
    assert r.exit_code == 0, r.output
    left = {s["clip"] for s in _jsonl(base / "corpus" / "chat.jsonl")}
    assert left == set(train[2:])
    assert {p.name for p in (base / "corpus" / "frames").iterdir()} == left  # their frames went too
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a benchmark"}')
    r = build_small(tmp_path / "never", "--exclude-clips", str(bad))
    assert r.exit_code != 0 and "--exclude-clips" in r.output and "not a benchmark file" in r.output
    assert not (tmp_path / "never").exists()  # refused before any work


def test_an_unreadable_clip_loses_only_its_own_samples(small_build_set, tmp_path):
    """A clip that breaks after its descriptors were made (a rerun of the build) fails at the corpus frames:
    its samples go, the other clips' stay, the problem is in build.json."""
    from typer.testing import CliRunner

    from mabench.cli import app

    src = tmp_path / "set"
    shutil.copytree(small_build_set, src)
    out = tmp_path / "built"
    args = ["build", str(src / "clips"), "--out", str(out), "--labels", str(src / "labels.csv"), "--skeletons",
            str(src / "skeletons"), "--no-flow", "--test-fraction", "0.5", "--workers", "1"]
    assert CliRunner().invoke(app, args).exit_code == 0
    train = sorted({s["clip"] for s in _jsonl(out / "corpus" / "chat.jsonl")})
    assert len(train) >= 2
    (src / "clips" / f"{train[0]}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video")
    r = CliRunner().invoke(app, args)  # resumed: the descriptors are kept, the corpus frames are checked again
    assert r.exit_code == 0, r.output
    assert {s["clip"] for s in _jsonl(out / "corpus" / "chat.jsonl")} == set(train[1:])
    problems = json.loads((out / "build.json").read_text())["problems"]
    assert any(p.startswith(f"{train[0]}.mp4: no corpus frames") for p in problems)


def test_frames_written_once_follow_the_build_folder_and_the_count(build_small, tmp_path):
    out = tmp_path / "b"
    assert build_small(out, "--corpus-frames", "4").exit_code == 0
    assert build_small(out).exit_code == 0  # 8 frames now: the folder holds those 8, not 4 + 8
    for folder in (out / "corpus" / "frames").iterdir():
        assert len(list(folder.glob("frame_*.jpg"))) == 8
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    assert build_small(copy).exit_code == 0  # reuses the copy's own frames, never the original build's
    for s in _jsonl(copy / "corpus" / "chat.jsonl"):
        assert all(f.startswith(str((copy / "corpus" / "frames").resolve())) for f in _video_item(s)["frames"])
    assert build_small(out, "--corpus-frames", "0").exit_code == 0
    assert not (out / "corpus" / "frames").exists()  # no sample points at them any more
