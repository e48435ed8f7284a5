"""The corpus in the formats the field fine-tunes with, and a README that says how to run each tool on it.

* ``chat.jsonl`` - `mabench train`: the frames with their timestamps;
* ``llamafactory.json`` + ``dataset_info.json`` - LLaMA-Factory (sharegpt): a frame list (nested image list);
* ``swift.jsonl`` - ms-swift: a frame list;
* ``trl.jsonl`` - TRL's `SFTTrainer` (image lists): the frames as images;
* ``qwen.json`` - the Qwen-VL fine-tuning repo: the video path (its loader reads one path per ``<video>``).

A corpus written without frames (``--corpus-frames 0``) gives every tool the video path, and the README
names the flags that make each tool take the same number of frames.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from pathlib import Path

from mabench.builder.corpus import CORPUS_VERSION
from mabench.data.io import atomic_write_text, write_json

DATASET_NAME = "mabench_train"
FORMAT_FILES = ("chat.jsonl", "llamafactory.json", "dataset_info.json", "swift.jsonl", "trl.jsonl", "qwen.json",
                "README.md")


def _text(msg: dict) -> str:
    if isinstance(msg["content"], str):
        return msg["content"]
    return "".join(p["text"] for p in msg["content"] if p["type"] == "text")


def _turn(sample: dict, role: str) -> dict:
    return next(m for m in sample["messages"] if m["role"] == role)


def _video(sample: dict) -> dict:
    return next(c for c in _turn(sample, "user")["content"] if c["type"] == "video")


def _clip_input(sample: dict) -> str | list[str]:
    """The frame list where the sample has one, else the video path."""
    v = _video(sample)
    return list(v["frames"]) if v.get("frames") else v["video"]


def llamafactory(chat: list[dict]) -> tuple[list[dict], dict]:
    """LLaMA-Factory's sharegpt rows (``<video>`` in the user text; ``videos`` holds one frame list or path)
    and the ``dataset_info.json`` entry that registers them."""
    rows = [{"messages": [{"role": "user", "content": "<video>" + _text(_turn(s, "user"))},
                          {"role": "assistant", "content": _text(_turn(s, "assistant"))}],
             "system": _text(_turn(s, "system")), "videos": [_clip_input(s)]} for s in chat]
    info = {DATASET_NAME: {"file_name": "llamafactory.json", "formatting": "sharegpt",
                           "columns": {"messages": "messages", "system": "system", "videos": "videos"},
                           "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                                    "assistant_tag": "assistant"}}}
    return rows, info


def swift(chat: list[dict]) -> list[dict]:
    """ms-swift's messages rows: ``<video>`` in the user text, ``videos`` with one frame list or path."""
    return [{"messages": [{"role": "system", "content": _text(_turn(s, "system"))},
                          {"role": "user", "content": "<video>" + _text(_turn(s, "user"))},
                          {"role": "assistant", "content": _text(_turn(s, "assistant"))}],
             "videos": [_clip_input(s)]} for s in chat]


def trl(chat: list[dict]) -> list[dict]:
    """TRL's vision-language rows: ``images`` (the frames) and plain-text messages; TRL puts one image
    placeholder per image before the first user text (`trl.data_utils.prepare_multimodal_messages`)."""
    rows = []
    for s in chat:
        v = _video(s)
        if not v.get("frames"):
            continue  # TRL takes images only: a corpus without frames has nothing to give it
        rows.append({"id": s["id"], "images": list(v["frames"]),
                     "messages": [{"role": "system", "content": _text(_turn(s, "system"))},
                                  {"role": "user", "content": _text(_turn(s, "user"))},
                                  {"role": "assistant", "content": _text(_turn(s, "assistant"))}]})
    return rows


def qwen(chat: list[dict]) -> list[dict]:
    """The Qwen-VL fine-tuning repo's rows (``video``, ``conversations`` with ``from: human / gpt``; that
    format has no system turn, and its loader takes one video path per ``<video>``)."""
    return [{"video": s["video"], "conversations": [
        {"from": "human", "value": "<video>\n" + _text(_turn(s, "user"))},
        {"from": "gpt", "value": _text(_turn(s, "assistant"))}]} for s in chat]


def frames_summary(chat: list[dict]) -> dict | None:
    """Frame count and rates over the corpus's clips (None when it was written without frames)."""
    clips: dict[str, dict] = {}
    for s in chat:
        v = _video(s)
        if v.get("frames"):
            clips[s["clip"]] = v
    if not clips:
        return None
    rates = [v["sample_fps"] for v in clips.values() if v["sample_fps"] > 0]
    counts = sorted({len(v["frames"]) for v in clips.values()})
    return {"clips": len(clips), "counts": counts,
            "sample_fps": {"median": round(statistics.median(rates), 3), "min": round(min(rates), 3),
                           "max": round(max(rates), 3)} if rates else None,
            "source_fps": sorted({round(v["source_fps"], 3) for v in clips.values()})}


def readme(out: Path, frames: dict | None, num_frames: int, excluded: dict | None, with_frames: bool = True) -> str:
    """How to train on this corpus with each tool, with the flags that keep the frames `mabench eval` sends."""
    c = str(out.resolve())
    n = frames["counts"][-1] if frames else num_frames
    rate = frames["sample_fps"]["median"] if frames and frames["sample_fps"] else 2.0
    lines = [f"# {DATASET_NAME}: a `mabench build` corpus", ""]
    if frames:
        sfps = frames["sample_fps"] or {}
        lines += [
            f"Every sample carries its clip's frames as `mabench eval` sends them ({n} per clip, in "
            f"`frames/<clip>/`, the same JPEG bytes), beside the video path. `chat.jsonl` records their "
            f"timestamps, the clip's real frame rate and the rate the frames were taken at (median "
            f"{sfps.get('median')} frames/s, {sfps.get('min')} to {sfps.get('max')} over the clips). Tools that "
            "take a frame list use these frames, so the count cannot drift; the ones that time frames by one "
            f"rate are given the median ({rate}) below.", ""]
    elif with_frames:
        lines += ["No clip's frames could be written (every corpus clip failed to decode: see build.json's "
                  "problems); every tool below is given the video path.", ""]
    else:
        lines += ["Written without frames (`--corpus-frames 0`): every tool samples the video itself; the flags "
                  f"below ask each for {n} frames.", ""]
    if excluded:
        lines += [f"Clips kept out: {excluded['excluded']} (of {excluded['listed']} listed in {excluded['file']}, "
                  f"sha256 {excluded['sha256'][:12]}).", ""]
    lines += [
        "## mabench train (`chat.jsonl`)", "", "```bash",
        f"mabench train --corpus {c} --model Qwen/Qwen3-VL-8B-Instruct --out lora/ --frames {n}",
        "# several GPUs on one node (DeepSpeed ZeRO-2: configs/accelerate_zero2.yaml in the mabench repo)",
        f"accelerate launch --config_file configs/accelerate_zero2.yaml -m mabench.train --corpus {c} "
        f"--model Qwen/Qwen3-VL-8B-Instruct --out lora/ --frames {n}",
        "```", "",
        "## LLaMA-Factory (`llamafactory.json`, registered in `dataset_info.json`)", "", "```bash",
        f"llamafactory-cli train --stage sft --do_train --model_name_or_path Qwen/Qwen3-VL-8B-Instruct "
        f"--template qwen3_vl --finetuning_type lora --dataset {DATASET_NAME} --dataset_dir {c} "
        + (f"--video_fps {rate} " if frames else f"--video_fps 30 --video_maxlen {n} ")
        + "--output_dir lora-llamafactory/",
        "```", "",
        ("`videos` holds each clip's frame list. LLaMA-Factory 0.9.5 takes it as it is (its Qwen3-VL plugin "
         "passes `do_sample_frames=False`; earlier versions resampled a frame list at 2 frames/s, see "
         f"LLaMA-Factory issue #9620); `--video_fps {rate}` only places the frames in time (frame i at i / {rate} "
         "s)." if frames else
         f"LLaMA-Factory takes min(frames, `--video_maxlen`, duration x `--video_fps`) frames: `--video_fps 30 "
         f"--video_maxlen {n}` keeps {n} on clips of {n / 30:.2f} s or more (its default, 2 frames/s, gives 4 "
         "on a 2.1-s clip), but its Qwen3-VL plugin then times the frames 1/30 s apart: a corpus with frames "
         "(`--corpus-frames`) keeps both the count and the times."), "",
        "## ms-swift (`swift.jsonl`)", "", "```bash",
        (f"FPS={rate} " if frames else f"FPS_MIN_FRAMES={n} FPS_MAX_FRAMES={n} ")
        + f"swift sft --model Qwen/Qwen3-VL-8B-Instruct --train_type lora --dataset {c}/swift.jsonl "
        "--output_dir lora-swift/",
        "```", "",
        ("`videos` holds each clip's frame list; for Qwen-VL models ms-swift keeps it as it is and times the "
         f"frames by qwen-vl-utils' `FPS` (frame i at i / {rate} s)." if frames else
         f"ms-swift samples the video with qwen-vl-utils: `FPS_MIN_FRAMES={n} FPS_MAX_FRAMES={n}` fixes the count."),
        "",
        "## TRL (`trl.jsonl`: the frames as an image list)", "", "```python",
        "from datasets import Image, Sequence, load_dataset",
        "from peft import LoraConfig",
        "from trl import SFTConfig, SFTTrainer",
        f'ds = load_dataset("json", data_files="{c}/trl.jsonl", split="train").cast_column("images", '
        "Sequence(Image()))",
        'trainer = SFTTrainer(model="Qwen/Qwen3-VL-8B-Instruct", train_dataset=ds, args=SFTConfig(output_dir='
        '"lora-trl/"), peft_config=LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj", '
        '"o_proj"]))',
        "```", "",
        "TRL's `SFTTrainer` takes images, not videos: the frames go in as images, one placeholder each "
        "before the question, without timestamps." if frames else
        "Empty: TRL takes image lists, and this corpus was written without frames.", "",
        "## The Qwen-VL fine-tuning repo (`qwen.json`)", "",
        "Add to `qwenvl/data/__init__.py`:", "", "```python",
        f'MABENCH_TRAIN = {{"annotation_path": "{c}/qwen.json", "data_path": ""}}',
        f'data_dict["{DATASET_NAME}"] = MABENCH_TRAIN',
        "```", "", "```bash",
        f"torchrun --nproc_per_node 8 qwenvl/train/train_qwen.py --model_name_or_path Qwen/Qwen3-VL-8B-Instruct "
        f"--dataset_use {DATASET_NAME} --video_min_frames {n} --video_max_frames {n} --lora_enable True "
        "--output_dir lora-qwen/",
        "```", "",
        f"Its loader reads one video path per `<video>` and samples it with the processor: "
        f"`--video_min_frames {n} --video_max_frames {n}` fixes the count; the frames are its decoder's, not "
        "byte-identical to `mabench eval`'s.", ""]
    return "\n".join(lines)


def export_corpus(chat: list[dict], out: str | Path, num_frames: int = 0, excluded: dict | None = None,
                  with_frames: bool = True) -> dict:
    """Write every format of `chat` samples under `out`, the README and the manifest; returns the manifest."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(s, ensure_ascii=False) for s in chat]
    chat_text = "\n".join(lines) + ("\n" if lines else "")
    atomic_write_text(out / "chat.jsonl", chat_text)
    lf, info = llamafactory(chat)
    atomic_write_text(out / "llamafactory.json", json.dumps(lf, ensure_ascii=False, indent=1))
    write_json(out / "dataset_info.json", info, indent=1)
    for name, rows in (("swift.jsonl", swift(chat)), ("trl.jsonl", trl(chat))):
        atomic_write_text(out / name, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    atomic_write_text(out / "qwen.json", json.dumps(qwen(chat), ensure_ascii=False, indent=1))
    frames = frames_summary(chat)
    atomic_write_text(out / "README.md", readme(out, frames, num_frames, excluded, with_frames))
    manifest = {"version": CORPUS_VERSION, "samples": len(chat), "clips": len({s["clip"] for s in chat}),
                # chat.jsonl's bytes, as `mabench train` hashes them
                "sha256": hashlib.sha256(chat_text.encode("utf-8")).hexdigest(),
                "frames": frames, "excluded": excluded, "files": list(FORMAT_FILES)}
    write_json(out / "manifest.json", manifest, indent=1)
    return manifest
