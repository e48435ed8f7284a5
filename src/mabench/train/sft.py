"""`mabench train`: LoRA supervised fine-tuning of a video-language model on a `mabench build` corpus.

* input: the corpus's ``chat.jsonl`` (one user turn with a video and a question, one assistant
  answer); every record is checked against the model before training starts;
* LoRA on the language model's attention projections only, targeted by full module path (Qwen-VL
  vision blocks also have ``*_proj`` modules); vision tower and projector frozen;
* loss on the assistant's tokens only (the prompt, the video tokens and padding are masked);
* a video-aware collator: each clip sampled once (uniform frames with their timestamps) and cached;
* TRL's `SFTTrainer` (``skip_prepare_dataset``: the collator does the work), gradient
  checkpointing, bf16 when the GPU has it, checkpoints and ``--resume``; runs under
  ``accelerate launch -m mabench.train ...`` for several GPUs (DeepSpeed / FSDP via accelerate's
  config).

The adapter folder holds the PEFT adapter and ``mabench_train.json``: the corpus hash, the base
model, the settings and the loss curve.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mabench import defaults
from mabench.models.hf import HF_INSTALL, collate, encode_chat, require_hf
from mabench.models.qwen_vl import VIDEO_PAD, VideoSpec, decode_jpegs, video_inputs
from mabench.video import SamplingConfig, sample_frames

# The language model's attention projections, by full path: never the vision tower's modules.
LM_ATTENTION = r".*language_model\.layers\.\d+\.self_attn\.(q_proj|k_proj|v_proj|o_proj)"
TRAIN_INFO = "mabench_train.json"
LOSS_SAMPLES = 64


def launch() -> tuple[int, int, int]:
    """(rank, local rank, world size) as a launcher (``accelerate launch``, torchrun) set them; (0, 0, 1) alone."""
    env = os.environ
    return int(env.get("RANK", "0")), int(env.get("LOCAL_RANK", "0")), int(env.get("WORLD_SIZE", "1"))


class CorpusError(ValueError):
    """A corpus record that cannot train this model; the message names the record."""


@dataclass
class TrainSettings:
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str = LM_ATTENTION
    learning_rate: float = 2e-4
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 1
    grad_accum: int = 1
    num_frames: int = 8
    # None: the corpus's frames as `mabench eval` sends them, and clips sampled from the video at TRAIN_MAX_SIDE;
    # a number: both downscaled to it (less memory per step)
    max_side: int | None = None
    gradient_checkpointing: bool = True
    save_steps: int = 200
    logging_steps: int = 10
    seed: int = 0
    device: str | None = None


def load_corpus(corpus: str | Path) -> tuple[list[dict], str, Path]:
    """(records, sha256 of the file, its path); every record checked for a video and an answer."""
    path = Path(corpus)
    if path.is_dir():
        path = path / "chat.jsonl"
    if not path.exists():
        raise CorpusError(f"{path}: no corpus here; make one with `mabench build` (it writes corpus/chat.jsonl)")
    data = path.read_bytes()
    records = []
    for n, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise CorpusError(f"{path} line {n}: not JSON ({e.msg})") from e
        where = f"{path} line {n} (id {rec.get('id', '?')})"
        msgs = rec.get("messages") or []
        system = None
        if msgs and msgs[0].get("role") == "system":  # the eval system prompt (corpus v2)
            system = msgs[0].get("content")
            msgs = msgs[1:]
        if len(msgs) < 2 or msgs[0].get("role") != "user" or msgs[-1].get("role") != "assistant":
            raise CorpusError(f"{where}: needs a user turn then an assistant turn")
        content = msgs[0].get("content")
        videos = [c for c in content if c.get("type") == "video"] if isinstance(content, list) else []
        texts = [c.get("text", "") for c in content if c.get("type") == "text"] if isinstance(content, list) else []
        if len(videos) != 1:
            raise CorpusError(f"{where}: has {len(videos)} videos; this model is trained on one clip per sample "
                              "(no frames, no training)")
        video = Path(videos[0].get("video", ""))
        if not video.is_file():
            raise CorpusError(f"{where}: video {video} not found")
        answer = msgs[-1].get("content")
        answer = "".join(c.get("text", "") for c in answer) if isinstance(answer, list) else str(answer or "")
        if not answer.strip():
            raise CorpusError(f"{where}: empty assistant answer")
        frames = videos[0].get("frames") or None  # the eval frames `mabench build --corpus-frames` wrote
        if frames is not None:
            stamps = videos[0].get("timestamps") or []
            if not isinstance(frames, list) or len(stamps) != len(frames):
                raise CorpusError(f"{where}: {len(frames)} frames but {len(stamps)} timestamps")
            if missing := [f for f in frames if not Path(f).is_file()]:
                raise CorpusError(f"{where}: frame {missing[0]} not found ({len(missing)} of {len(frames)} missing)")
        records.append({"id": rec.get("id", str(n)), "video": str(video), "question": "\n".join(texts),
                        "answer": answer, "system": system if isinstance(system, str) and system else None,
                        "frames": frames, "timestamps": videos[0].get("timestamps") if frames else None})
    if not records:
        raise CorpusError(f"{path}: no records")
    return records, hashlib.sha256(data).hexdigest(), path


class VideoCollator:
    """Features are record indices; each clip's frames are read once and cached: the corpus's own frames
    (the JPEGs `mabench eval` sends, at their timestamps) when the record has as many as asked for, else
    sampled from the video with `sampling`."""

    def __init__(self, records: list[dict], tokenizer, spec: VideoSpec, sampling: SamplingConfig,
                 corpus_max_side: int | None = None):
        self.records, self.tokenizer, self.spec, self.sampling = records, tokenizer, spec, sampling
        self.corpus_max_side = corpus_max_side  # downscale the corpus's frames to this side (None: as they are)
        self.video_token_id = tokenizer.convert_tokens_to_ids(VIDEO_PAD)
        self._frames: dict[str, tuple] = {}
        self.tokens = 0  # sequence tokens (text + video, no padding) of every batch made: throughput
        self.from_corpus = 0  # clips whose frames came from the corpus (the rest sampled from the video)

    def frames(self, rec: dict):
        video = rec["video"]
        if video not in self._frames:
            if rec.get("frames") and len(rec["frames"]) == self.sampling.num_frames:
                frames = decode_jpegs([Path(f).read_bytes() for f in rec["frames"]])
                if self.corpus_max_side and max(frames[0].shape[:2]) > self.corpus_max_side:
                    frames = [_downscale(f, self.corpus_max_side) for f in frames]
                self._frames[video] = (frames, [float(t) for t in rec["timestamps"]])
                self.from_corpus += 1
            else:
                s = sample_frames(video, self.sampling)
                self._frames[video] = (decode_jpegs(s.jpegs), list(s.timestamps))
        return self._frames[video]

    def encode(self, rec: dict):
        frames, times = self.frames(rec)
        v = video_inputs(frames, times, self.spec)
        # the same turn the hf backend sends at eval time (models.hf: system as plain text, then the user)
        messages = ([{"role": "system", "content": rec["system"]}] if rec.get("system") else []) + \
            [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": rec["question"]}]}]
        return encode_chat(self.tokenizer, self.spec, messages, v, add_generation_prompt=True, answer=rec["answer"])

    def __call__(self, features: list[dict]) -> dict:
        batch = collate([self.encode(self.records[f["idx"]]) for f in features], self.tokenizer, self.video_token_id,
                        left_pad=False)
        self.tokens += int(batch["attention_mask"].sum())
        return batch


def _downscale(frame, max_side: int):
    import cv2

    h, w = frame.shape[:2]
    scale = max_side / max(h, w)
    return cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def check_corpus_against_model(records: list[dict], collator: VideoCollator) -> None:
    """Fail before training if a record cannot be turned into model inputs (first and every clip)."""
    seen = set()
    for rec in records:
        if rec["video"] in seen:
            continue
        seen.add(rec["video"])
        try:
            enc = collator.encode(rec)
        except Exception as e:  # unreadable clip, template without a video slot, ...
            raise CorpusError(f"record {rec['id']} ({rec['video']}): cannot build model inputs: {e}") from e
        if not any(label != -100 for label in enc.labels or []):
            raise CorpusError(f"record {rec['id']}: no answer tokens to learn")


def corpus_loss(model, collator: VideoCollator, records: list[dict], limit: int = LOSS_SAMPLES) -> float:
    """Mean loss over the answer tokens of the first `limit` records (a fixed set: comparable across
    runs, unlike the noisy per-batch training loss)."""
    torch = require_hf()
    device = next(model.parameters()).device
    total, tokens = 0.0, 0
    model.eval()
    with torch.no_grad():
        for i in range(min(limit, len(records))):
            batch = {k: v.to(device) for k, v in collator([{"idx": i}]).items()}
            n = int((batch["labels"][:, 1:] != -100).sum())
            total += float(model(**batch).loss) * n
            tokens += n
    model.train()
    return total / max(tokens, 1)


def _checkpointing(on: bool) -> dict:
    """Activation (gradient) checkpointing arguments, under the name this transformers version uses."""
    from trl import SFTConfig

    name = "activation_checkpointing" if "activation_checkpointing" in SFTConfig.__dataclass_fields__ \
        else "gradient_checkpointing"
    return {name: on, f"{name}_kwargs": {"use_reentrant": False}}


def train(corpus: str | Path, model_path: str, out: str | Path, settings: TrainSettings, resume: bool = False,
          log=print) -> dict:
    """Fine-tune; returns the training summary (also in OUT/mabench_train.json)."""
    torch = require_hf()
    try:
        from datasets import Dataset
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForImageTextToText, AutoTokenizer
        from trl import SFTConfig, SFTTrainer
    except ImportError as e:
        raise ImportError(f"mabench train needs the hf extra ({e.name} is missing): {HF_INSTALL}") from e
    from mabench.models.hf import pick_device, pick_dtype

    out = Path(out)
    rank, local_rank, world = launch()
    if rank != 0:  # one voice: the other processes train quietly
        log = lambda m: None  # noqa: E731
    records, sha, corpus_file = load_corpus(corpus)
    device = pick_device(settings.device)
    if device == "cuda" and world > 1:  # each process its own GPU, never all of them on the first
        device = f"cuda:{local_rank}"
    dtype = pick_dtype(device)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    # Any: it becomes a PeftModel below, which transformers' and peft's stubs do not unify
    model: Any = AutoModelForImageTextToText.from_pretrained(model_path, dtype=dtype)
    if getattr(model.config, "video_token_id", None) is None:
        raise CorpusError(f"{model_path}: not a video model (no video token); the corpus needs one")
    spec = VideoSpec.from_pretrained(model_path, model.config)
    collator = VideoCollator(records, tokenizer, spec, SamplingConfig(
        num_frames=settings.num_frames, max_side=settings.max_side or defaults.TRAIN_MAX_SIDE), settings.max_side)
    check_corpus_against_model(records, collator)
    clips = len({r["video"] for r in records})
    log(f"corpus: {len(records)} samples, {clips} clips (sha256 {sha[:12]}); frames: {collator.from_corpus} clips' "
        f"from the corpus (as `mabench eval` sends them), {clips - collator.from_corpus} sampled from the video; "
        f"model {model_path} on {device} ({str(dtype).replace('torch.', '')}), {world} process(es)")

    for p in model.parameters():  # vision tower, projector and the LM itself stay frozen
        p.requires_grad = False
    lora = LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                      target_modules=settings.target_modules, bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    if settings.gradient_checkpointing:
        model.enable_input_require_grads()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    model.to(device)
    loss_before = corpus_loss(model, collator, records)
    bf16 = dtype == torch.bfloat16
    args = SFTConfig(
        output_dir=str(out / "checkpoints"), per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.grad_accum, learning_rate=settings.learning_rate,
        num_train_epochs=settings.epochs, max_steps=settings.max_steps, logging_steps=settings.logging_steps,
        save_steps=settings.save_steps, save_total_limit=2, **_checkpointing(settings.gradient_checkpointing),
        bf16=bf16, remove_unused_columns=False,
        dataset_kwargs={"skip_prepare_dataset": True}, report_to=[], seed=settings.seed,
        use_cpu=device == "cpu", dataloader_num_workers=0, lr_scheduler_type="constant", warmup_steps=0)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_dict({"idx": list(range(len(records)))}),
                         data_collator=collator, processing_class=tokenizer)
    has_ckpt = any((out / "checkpoints").glob("checkpoint-*"))
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    collator.tokens = 0
    result = trainer.train(resume_from_checkpoint=True if (resume and has_ckpt) else None)
    runtime = float(result.metrics.get("train_runtime", 0.0))
    # every process's batches (each collates its own share)
    tokens = int(trainer.accelerator.reduce(torch.tensor(collator.tokens, device=trainer.args.device), "sum").item())
    speed = {"train_runtime_s": round(runtime, 2), "tokens": tokens,
             "tokens_per_s": round(tokens / runtime, 1) if runtime else None,
             "step_time_s": round(runtime / max(trainer.state.global_step, 1), 3)}
    if device.startswith("cuda"):
        speed["peak_gpu_memory_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    trainer.save_model(str(out))  # the adapter, written by the main process only
    loss_after = corpus_loss(model, collator, records)
    log(f"loss on the first {min(LOSS_SAMPLES, len(records))} corpus samples: {loss_before:.3f} -> {loss_after:.3f}")
    losses = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    info = {"base_model": str(model_path), "corpus": str(corpus_file), "corpus_sha256": sha,
            "samples": len(records), "settings": asdict(settings), "trainable_parameters": trainable,
            "steps": trainer.state.global_step, "train_loss": result.training_loss, "losses": losses,
            "corpus_loss_before": loss_before, "corpus_loss_after": loss_after,
            "device": device, "dtype": str(dtype).replace("torch.", ""),
            "processes": trainer.args.world_size, "distributed": str(trainer.accelerator.distributed_type),
            "frames_from_corpus": collator.from_corpus, "clips": clips, **speed}
    if trainer.is_world_process_zero():
        (out / TRAIN_INFO).write_text(json.dumps(info, indent=1), encoding="utf-8")
    trainer.accelerator.wait_for_everyone()
    return info
