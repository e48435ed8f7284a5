"""GPU figures for the local-model path: LoRA steps of `mabench train` and `--model hf:` eval throughput
on a Qwen3-VL-8B-shaped model with random weights (no download: the model is built from a config).

    python bench/gpu_figures.py --work /tmp/gpu --steps 20 --questions 200 [--json OUT.json]

Steps: render synthetic clips and build a benchmark + corpus (8 frames a clip); write the model
(Qwen3-VL-8B's published shape: 36 layers, hidden 4096, 32/8 heads, a 27-block vision tower; a
small tokenizer trained here, the embedding at the full vocabulary); `mabench train --max-steps N`;
`mabench eval --model hf:MODEL --limit Q`. Records step time, tokens/s, peak GPU memory, questions/s.
Needs a CUDA GPU with ~40 GB and the hf extra.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

QWEN3_VL_8B = {  # the published Qwen3-VL-8B-Instruct shape
    "text": {"hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36, "num_attention_heads": 32,
             "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936, "max_position_embeddings": 262144,
             "rope_parameters": {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [24, 20, 20],
                                 "mrope_interleaved": True}},
    "vision": {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16, "out_hidden_size": 4096,
               "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2, "num_position_embeddings": 2304,
               "deepstack_visual_indexes": [8, 16, 24]},
}


TINY = {  # for a CPU smoke test of this script (--shape tiny)
    "text": {**QWEN3_VL_8B["text"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 4096,
             "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [4, 2, 2],
                                 "mrope_interleaved": True}},
    "vision": {**QWEN3_VL_8B["vision"], "depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
               "out_hidden_size": 64, "num_position_embeddings": 256, "deepstack_visual_indexes": [0, 1]},
}


def build_model(path: Path, shape: dict, device: str) -> dict:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3VLConfig, Qwen3VLForConditionalGeneration

    from mabench.testing.tiny_qwen3vl import CHAT_TEMPLATE, SPECIAL_TOKENS, _tokenizer_corpus

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(_tokenizer_corpus() * 4, trainers.BpeTrainer(
        vocab_size=2048, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        additional_special_tokens=SPECIAL_TOKENS[1:])
    tokenizer.chat_template = CHAT_TEMPLATE
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    config = Qwen3VLConfig(
        text_config={**shape["text"], "pad_token_id": ids["<|endoftext|>"]},
        vision_config=shape["vision"], image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"], tie_word_embeddings=False)
    t0 = time.perf_counter()
    torch.set_default_dtype(torch.bfloat16 if device == "cuda" else torch.float32)
    with torch.device(device):
        model = Qwen3VLForConditionalGeneration(config)
    torch.set_default_dtype(torch.float32)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    params = sum(p.numel() for p in model.parameters())
    t1 = time.perf_counter()
    model.save_pretrained(path, max_shard_size="20GB")
    tokenizer.save_pretrained(path)
    (path / "video_preprocessor_config.json").write_text(json.dumps({
        "size": {"shortest_edge": 4096, "longest_edge": 25165824}, "patch_size": 16, "temporal_patch_size": 2,
        "merge_size": 2, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}))
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return {"parameters": params, "init_s": round(t1 - t0, 1), "save_s": round(time.perf_counter() - t1, 1)}


def poller(stop: threading.Event, peak: list[float], preds: Path, seen: list[tuple[float, int]]) -> None:
    """For the eval subprocess: peak device memory in use (GiB, nvidia-smi) and when answers arrive (so the
    rate can be taken after the model has loaded)."""
    while not stop.is_set():
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, timeout=5).stdout
            peak[0] = max(peak[0], max(float(x) for x in out.split()) / 1024)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        if preds.exists():
            n = sum(1 for _ in preds.open())
            if not seen or n != seen[-1][1]:
                seen.append((time.perf_counter(), n))
        stop.wait(0.25)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/mabench-gpu")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--clips", type=int, default=40)
    ap.add_argument("--json", default=None)
    ap.add_argument("--shape", choices=("8b", "tiny"), default="8b")
    a = ap.parse_args()
    import torch

    from mabench.builder.pipeline import BuildSettings, build
    from mabench.synth.generate import write_set
    from mabench.train.sft import TrainSettings, train

    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    res: dict = {"gpu": torch.cuda.get_device_name(0) if device == "cuda" else "none (cpu)", "torch": torch.__version__,
                 "shape": a.shape}
    t0 = time.perf_counter()
    labels = write_set(work / "synth", a.clips, seed=7, workers=8, subjects=8, min_s=1.5, max_s=3.0)
    build(work / "synth" / "clips", labels, work / "built", BuildSettings(
        skeletons=str(work / "synth" / "skeletons"), flow=False, test_fraction=0.5, workers=8), log=lambda m: None)
    res["data_s"] = round(time.perf_counter() - t0, 1)
    res["model"] = build_model(work / "model", QWEN3_VL_8B if a.shape == "8b" else TINY, device)
    print(json.dumps(res), flush=True)

    info = train(work / "built" / "corpus", str(work / "model"), work / "lora", TrainSettings(
        max_steps=a.steps, num_frames=8, logging_steps=1, save_steps=10_000), log=print)
    res["train"] = {k: info.get(k) for k in ("steps", "samples", "trainable_parameters", "train_runtime_s",
                                         "step_time_s", "tokens", "tokens_per_s", "peak_gpu_memory_gb",
                                         "corpus_loss_before", "corpus_loss_after", "dtype")}
    print(json.dumps(res["train"]), flush=True)
    if device == "cuda":
        torch.cuda.empty_cache()

    stop, peak, seen = threading.Event(), [0.0], []
    poll = threading.Thread(target=poller, args=(stop, peak, work / "run" / "predictions.jsonl", seen), daemon=True)
    poll.start()
    t0 = time.perf_counter()
    cmd = [sys.executable, "-c", "from mabench.cli import app; app()", "eval", str(work / "built" / "benchmark.json"),
           "--videos",
           str(work / "synth" / "clips"), "--model", f"hf:{work / 'model'}", "--out", str(work / "run"),
           "--limit", str(a.questions), "--frames", "8", "--max-tokens", "32"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    stop.set()
    rows = [json.loads(x) for x in (work / "run" / "predictions.jsonl").read_text().splitlines() if x.strip()] \
        if (work / "run" / "predictions.jsonl").exists() else []
    res["eval"] = {"returncode": r.returncode, "questions": len(rows), "errors": sum(1 for x in rows if x.get("error")),
                   "wall_s_incl_load": round(wall, 1),
                   "questions_per_s_incl_load": round(len(rows) / wall, 2) if wall else None,
                   "peak_gpu_memory_gb_nvidia_smi": round(peak[0], 1), "tail": r.stdout[-600:] + r.stderr[-600:]}
    if len(seen) >= 2 and seen[-1][1] > seen[0][1]:  # from the first answers written to the last
        (ta, na), (tb, nb) = seen[0], seen[-1]
        res["eval"]["questions_per_s_after_load"] = round((nb - na) / (tb - ta), 2)
    print(json.dumps(res, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
