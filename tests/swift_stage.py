"""CI stage: ms-swift reads a `mabench build` corpus with its own dataset loader and its Qwen-VL video path.

Run in a venv with ms-swift, qwen-vl-utils and mabench installed (see .ci/run):
    python tests/swift_stage.py --work DIR

1. 6 synthetic clips, `mabench build` (a fifth of them in the benchmark, the rest in the corpus, 8 frames each);
2. `swift.dataset.load_dataset` on corpus/swift.jsonl: every sample, its messages and its frame list as written;
3. what ms-swift's Qwen-VL path does with a frame list (`patch_qwen_vl_utils`, then qwen-vl-utils'
   `fetch_video` with `sample_fps` = `FPS`), with the README's `FPS=`; then a whole encoding as training
   runs it (ms-swift's processor and Qwen3-VL template in train mode, on a tiny Qwen3-VL): all 8 frames reach
   the model (video_grid_thw's T = 4 frame pairs; the processor's own resampling is off) at the times
   frame i / FPS gives;
4. the README's ms-swift command names that FPS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    work = ap.parse_args().work.absolute()
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    from mabench.testing.vllm_cpu import allow_torchvision_without_ops

    # PyPI's torchvision is a CUDA build whose ops do not load next to the CPU torch; qwen-vl-utils imports it,
    # and transformers does once it is installed
    allow_torchvision_without_ops()
    from mabench.synth.generate import write_set

    labels = write_set(work / "synth", 6, seed=3, workers=2, min_s=1.5, max_s=2.5)
    subprocess.run([sys.executable, "-m", "mabench", "build", str(work / "synth" / "clips"), "--labels", str(labels),
                    "--skeletons", str(work / "synth" / "skeletons"), "--no-flow", "--test-fraction", "0.2",
                    "--out", str(work / "built")], check=True, stdout=subprocess.DEVNULL)
    corpus = work / "built" / "corpus"
    chat = [json.loads(x) for x in (corpus / "chat.jsonl").read_text(encoding="utf-8").splitlines()]
    frames = {s["id"]: next(c for c in s["messages"][1]["content"] if c["type"] == "video")["frames"] for s in chat}

    from swift.dataset import load_dataset

    train, _ = load_dataset([str(corpus / "swift.jsonl")])
    problems = []
    if len(train) != len(chat):
        problems.append(f"ms-swift loaded {len(train)} samples of {len(chat)}")
    for row, s in zip(train, chat, strict=False):
        roles = [m["role"] for m in row["messages"]]
        if roles != ["system", "user", "assistant"] or not row["messages"][1]["content"].startswith("<video>"):
            problems.append(f"{s['id']}: messages as loaded: {roles}")
        if row["videos"] != [frames[s["id"]]]:
            problems.append(f"{s['id']}: videos as loaded: {row['videos']!r:.200}")

    rate = json.loads((corpus / "manifest.json").read_text())["frames"]["sample_fps"]["median"]
    readme = (corpus / "README.md").read_text(encoding="utf-8")
    command = rf"FPS={re.escape(str(rate))} swift sft .*--dataset {re.escape(str(corpus.resolve()))}/swift.jsonl"
    if not re.search(command, readme):
        problems.append(f"the README's ms-swift command does not set FPS={rate} on swift.jsonl")
    os.environ["FPS"] = str(rate)  # as the README's command sets it
    from qwen_vl_utils import fetch_video, vision_process
    from swift.model.models.qwen import patch_qwen_vl_utils

    patch_qwen_vl_utils(vision_process)
    for clip in sorted({s["clip"] for s in chat}):
        sample = next(s for s in chat if s["clip"] == clip)
        # ms-swift's Qwen3-VL template on an image list: sample_fps = vision_process.FPS
        (video, meta), used = fetch_video({"video": frames[sample["id"]], "sample_fps": vision_process.FPS},
                                          image_patch_size=16, return_video_sample_fps=True,
                                          return_video_metadata=True)
        if video.shape[0] != 8 or abs(float(used) - rate) > 1e-9:
            problems.append(f"{clip}: ms-swift's video path gave {video.shape[0]} frames at {used} frames/s")

    # the whole encoding, as training runs it: ms-swift's processor and Qwen3-VL template (train mode) on a tiny
    # Qwen3-VL, each clip's first row: how many of its frames reach the model (video_grid_thw: T frame pairs)
    from swift.model import get_processor
    from swift.template import get_template

    from mabench.testing.tiny_qwen3vl import build as build_tiny

    proc = get_processor(str(build_tiny(work / "tiny")), model_type="qwen3_vl")
    template = get_template(proc)
    template.set_mode("train")
    # the tiny tokenizer's own ids (a real Qwen3-VL's are the ids the template has built in)
    template.video_token_id = proc.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    template.image_token_id = proc.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    rows = {json.loads(x)["videos"][0][0]: json.loads(x) for x in (corpus / "swift.jsonl").read_text().splitlines()}
    for first, row in sorted(rows.items()):
        enc = template.encode(row)
        t = int(enc["video_grid_thw"][0][0])
        stamps = re.findall(r"<([\d.]+) seconds>", proc.tokenizer.decode(enc["input_ids"]))
        want = [f"{(2 * k + 0.5) / rate:.1f}" for k in range(4)]  # each frame pair's mean index over FPS
        print(f"ms-swift stage: {Path(first).parent.name}: video_grid_thw {enc['video_grid_thw'][0].tolist()} "
              f"({2 * t} frames reach the model), times {stamps}")
        if 2 * t != 8 or stamps != want:
            problems.append(f"{Path(first).parent.name}: ms-swift's template gave {2 * t} frames, times {stamps} "
                            f"(expected 8 frames, times {want})")
    for p in problems:
        print(f"ms-swift stage: FAIL {p}")
    print(f"ms-swift stage: {len(chat)} samples, {len({s['clip'] for s in chat})} clips checked in "
          f"{time.time() - t0:.0f} s: {'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
