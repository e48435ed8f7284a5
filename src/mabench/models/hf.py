"""Local transformers video-language models: the `hf:PATH_OR_ID` backend (a tiny Qwen3-VL to try it on:
`mabench.testing.tiny_qwen3vl`).

Needs the `hf` extra (torch, transformers, peft). Qwen3-VL and Qwen2.5-VL checkpoints load with
`AutoModelForImageTextToText`; their video inputs are prepared by `mabench.models.qwen_vl` (the
same rules as the stock processor, without torchvision), with the sampled frames' real timestamps.
Other families (LLaVA-OneVision, InternVL) plug in by adding a `VideoSpec`-style input builder.

Requests arriving together are batched (the runner sends a clip's questions at once); decoding
is greedy unless a temperature is set.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mabench.models.base import BackendError, EndpointError, Example, Request, Response
from mabench.models.qwen_vl import VIDEO_PAD, VideoInputs, VideoSpec, decode_jpegs, video_inputs, video_placeholder

HF_INSTALL = 'pip install -e ".[hf]"  (torch, transformers, peft, trl, accelerate, datasets)'
MAX_BATCH = 8
BATCH_WINDOW_S = 0.02


def require_hf() -> Any:
    """Import torch + transformers, or fail with one line naming the install command."""
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as e:
        raise ImportError(f"the hf backend needs the hf extra ({e.name} is missing): {HF_INSTALL}") from e
    return torch


def pick_device(device: str | None = None) -> str:
    torch = require_hf()
    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str, dtype: str | None = None) -> Any:
    torch = require_hf()
    if dtype:
        return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16,
                "float16": torch.float16, "fp32": torch.float32, "float32": torch.float32}[dtype]
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


@dataclass
class Encoded:
    """One chat turn ready for the model (before batching)."""

    input_ids: list[int]
    video: VideoInputs | None
    labels: list[int] | None = None
    earlier_videos: tuple[VideoInputs, ...] = ()  # few-shot examples' videos, before `video` in the prompt

    @property
    def videos(self) -> list[VideoInputs]:
        """Every video of the turn, in prompt order."""
        return [*self.earlier_videos, *([self.video] if self.video is not None else [])]


def encode_chat(tokenizer: Any, spec: VideoSpec, messages: list[dict], video: VideoInputs | None,
                add_generation_prompt: bool, answer: str | None = None,
                earlier_videos: tuple[VideoInputs, ...] = ()) -> Encoded:
    """Chat-template `messages`, expand the video placeholder, tokenize. With `answer`, the labels
    cover the answer tokens (and the end-of-turn token) only. `earlier_videos`: the videos of earlier
    turns (few-shot examples), one placeholder each before the question's."""
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
    if earlier_videos:
        videos = [*earlier_videos, *([video] if video is not None else [])]
        # split first: an expanded placeholder is itself made of video pad tokens
        pieces = prompt.split(VIDEO_PAD)
        if len(pieces) != len(videos) + 1:
            raise ValueError(f"the chat template placed {len(pieces) - 1} video tokens for {len(videos)} videos")
        prompt = pieces[0] + "".join(video_placeholder(v, spec) + rest for v, rest in zip(videos, pieces[1:],
                                                                                           strict=True))
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        return Encoded(ids, video, None, tuple(earlier_videos))
    if video is not None:
        if VIDEO_PAD not in prompt:
            raise ValueError("the chat template did not place a video token; is this a video model?")
        prompt = prompt.replace(VIDEO_PAD, video_placeholder(video, spec), 1)
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    if answer is None:
        return Encoded(ids, video)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    ans = tokenizer(answer, add_special_tokens=False)["input_ids"] + ([end] if end is not None else [])
    return Encoded(ids + ans, video, [-100] * len(ids) + ans)


def collate(batch: list[Encoded], tokenizer: Any, video_token_id: int, left_pad: bool) -> dict:
    """Pad a batch and stack its videos into model inputs (tensors)."""
    torch = require_hf()
    import numpy as np

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    n = max(len(e.input_ids) for e in batch)
    ids, mask, labels = [], [], []
    for e in batch:
        k = n - len(e.input_ids)
        fill = ([pad] * k, [0] * k, [-100] * k)
        body = (e.input_ids, [1] * len(e.input_ids), e.labels or [-100] * len(e.input_ids))
        ids.append(fill[0] + body[0] if left_pad else body[0] + fill[0])
        mask.append(fill[1] + body[1] if left_pad else body[1] + fill[1])
        labels.append(fill[2] + body[2] if left_pad else body[2] + fill[2])
    input_ids = torch.tensor(ids)
    out = {"input_ids": input_ids, "attention_mask": torch.tensor(mask),
           "mm_token_type_ids": (input_ids == video_token_id).to(torch.int32) * 2}
    videos = [v for e in batch for v in e.videos]
    if videos:
        out["pixel_values_videos"] = torch.from_numpy(np.concatenate([v.pixel_values for v in videos]))
        out["video_grid_thw"] = torch.tensor([list(v.grid_thw) for v in videos])
    if any(e.labels for e in batch):
        out["labels"] = torch.tensor(labels)
    return out


def load_model(path: str, adapter: str | None = None, device: str | None = None, dtype: str | None = None):
    """(model, tokenizer, VideoSpec) for a local folder or hub id (offline: a local folder)."""
    require_hf()
    from transformers import AutoModelForImageTextToText, AutoTokenizer

    dev = pick_device(device)
    # Any: with an adapter it becomes a PeftModel, which transformers' and peft's stubs do not unify
    model: Any = AutoModelForImageTextToText.from_pretrained(path, dtype=pick_dtype(dev, dtype))
    tokenizer = AutoTokenizer.from_pretrained(path)
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    model.to(dev).eval()
    return model, tokenizer, VideoSpec.from_pretrained(path, model.config)


@dataclass
class _Pending:
    req: Request
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    t0: float = field(default_factory=time.perf_counter)


class HFBackend:
    """`hf:PATH` for `mabench eval`: a local video-language model, batched, greedy by default."""

    needs_frames = True
    video_mode = "frames"

    def __init__(self, path: str, adapter: str | None = None, device: str | None = None, dtype: str | None = None,
                 max_batch: int = MAX_BATCH):
        self.path, self.adapter, self.max_batch = path, adapter, max_batch
        self.name = f"hf:{Path(path).name if Path(path).exists() else path}"
        try:
            self.model, self.tokenizer, self.spec = load_model(path, adapter, device, dtype)
        except (OSError, ValueError) as e:
            raise EndpointError(f"hf:{path}: cannot load the model ({e})") from e
        self.tokenizer.padding_side = "left"
        self.device = next(self.model.parameters()).device
        self.video_token_id = self.tokenizer.convert_tokens_to_ids(VIDEO_PAD)
        self._pending: list[_Pending] = []
        self._flush_scheduled = False
        self._gpu = asyncio.Lock()

    def describe(self) -> dict[str, Any]:
        return {"backend": "hf", "model": self.path, "adapter": self.adapter, "video_mode": self.video_mode,
                "device": str(self.device), "dtype": str(next(self.model.parameters()).dtype)}

    async def probe(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def generate(self, req: Request) -> Response:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()
        self._pending.append(_Pending(req, fut, loop))
        if len(self._pending) >= self.max_batch:
            loop.create_task(self._flush())
        else:
            self._schedule_flush(loop)
        return await fut

    def _schedule_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """Flush after a short window, so the requests that arrive together go as one batch."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_later(BATCH_WINDOW_S, lambda: loop.create_task(self._flush()))

    async def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
        if self._pending:
            self._schedule_flush(asyncio.get_running_loop())
        if not batch:
            return
        async with self._gpu:  # one batch on the device at a time
            try:
                texts = await asyncio.to_thread(self._run, [p.req for p in batch])
            except Exception as e:  # a failed batch fails its requests, not the run
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(BackendError(f"{type(e).__name__}: {e}", retryable=False))
                return
        now = time.perf_counter()
        for p, text in zip(batch, texts, strict=True):
            if not p.future.done():
                p.future.set_result(Response(text=text, latency_s=now - p.t0))

    def _turn(self, turn: Request | Example) -> tuple[VideoInputs | None, list[dict]]:
        video = None
        content: list[dict] = []
        if turn.frames is not None:
            frames = decode_jpegs(turn.frames.jpegs or turn.frames.data_urls)
            video = video_inputs(frames, list(turn.frames.timestamps), self.spec)
            content.append({"type": "video"})
        content.append({"type": "text", "text": turn.question})
        return video, content

    def _encode(self, req: Request) -> Encoded:
        video, content = self._turn(req)
        messages: list[dict[str, Any]] = [{"role": "system", "content": req.system_prompt}] \
            if req.system_prompt or req.system_always else []
        earlier: list[VideoInputs] = []
        for ex in req.examples:  # few-shot: each example its own video and question, then its answer
            ex_video, ex_content = self._turn(ex)
            earlier += [ex_video] if ex_video is not None else []
            messages += [{"role": "user", "content": ex_content}, {"role": "assistant", "content": ex.answer}]
        messages.append({"role": "user", "content": content})
        return encode_chat(self.tokenizer, self.spec, messages, video, add_generation_prompt=True,
                           earlier_videos=tuple(earlier))

    def _run(self, reqs: list[Request]) -> list[str]:
        """Generate for a batch; requests with other decoding settings (a strategy's `vote:N` samples
        at a temperature, `cot` with its own budget, beside plain questions) go as their own batches."""
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(reqs):
            groups.setdefault((r.gen.temperature, r.gen.max_tokens, r.gen.top_p, r.gen.seed), []).append(i)
        if len(groups) == 1:
            return self._run_same(reqs)
        texts = [""] * len(reqs)
        for idx in groups.values():
            for i, t in zip(idx, self._run_same([reqs[i] for i in idx]), strict=True):
                texts[i] = t
        return texts

    def _run_same(self, reqs: list[Request]) -> list[str]:
        torch = require_hf()
        inputs = collate([self._encode(r) for r in reqs], self.tokenizer, self.video_token_id, left_pad=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        if "pixel_values_videos" in inputs:
            inputs["pixel_values_videos"] = inputs["pixel_values_videos"].to(next(self.model.parameters()).dtype)
        gen = reqs[0].gen
        kw: dict[str, Any] = {"max_new_tokens": gen.max_tokens, "do_sample": (gen.temperature or 0.0) > 0,
                              "pad_token_id": self.tokenizer.pad_token_id}
        if gen.temperature is not None and gen.temperature > 0:
            kw["temperature"] = gen.temperature
            if gen.top_p is not None:
                kw["top_p"] = gen.top_p
        if gen.seed is not None:
            torch.manual_seed(gen.seed)
        with torch.inference_mode():
            out = self.model.generate(**inputs, **kw)
        new = out[:, inputs["input_ids"].shape[1]:]
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]
