"""A tiny randomly initialised Qwen3-VL built offline: the one test model for the `hf:` backend, the
demo, and a real vLLM server (the CI's vLLM stage).

    from mabench.testing.tiny_qwen3vl import build
    build("tiny-qwen3-vl")          # config, random weights, tokenizer trained here, processors

No download: the tokenizer is a byte-level BPE trained on mabench's own question templates and labels.
The sizes are the smallest that vLLM's CPU build serves: its attention kernels take head sizes 32, 64,
80, ... (16 kills the engine on the first request); vLLM needs an image-processor config and a chat
template that places both image and video tokens (a video-only template fails image requests with
"Failed to apply prompt replacement"). Images are capped at 128x128 pixels, videos at 8 frames of
64x64, so a request costs a few hundred tokens. Needs the `hf` extra (torch, transformers, tokenizers).
"""

from __future__ import annotations

import json
from pathlib import Path

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                  "<|image_pad|>", "<|video_pad|>"]
# Qwen's turn layout; the newlines are printed expressions because `-%}` would trim literal ones
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "<|im_start|>{{ message['role'] }}{{ '\\n' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'image' or item['type'] == 'image_url' -%}<|vision_start|><|image_pad|><|vision_end|>"
    "{%- elif item['type'] == 'video' or item['type'] == 'video_url' -%}<|vision_start|><|video_pad|><|vision_end|>"
    "{%- elif item['type'] == 'text' -%}{{ item['text'] }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}<|im_end|>{{ '\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|im_start|>assistant{{ '\\n' }}{%- endif -%}"
)
PATCH, MERGE, TEMPORAL = 16, 2, 2
FACTOR = PATCH * MERGE
# The pixel budgets (min, max): images at most 128x128 (16 merged tokens); a video's budget covers all
# its frames, so 8 frames of 64x64 (4 merged tokens per frame pair).
IMAGE_PIXELS = (FACTOR * FACTOR, 128 * 128)
VIDEO_PIXELS = (8 * FACTOR * FACTOR, 8 * 64 * 64)
MEAN_STD = {"image_mean": [0.5] * 3, "image_std": [0.5] * 3}
TEXT = {"hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 32, "max_position_embeddings": 8192}
VISION = {"depth": 2, "hidden_size": 64, "intermediate_size": 128, "num_heads": 2, "patch_size": PATCH,
          "spatial_merge_size": MERGE, "temporal_patch_size": TEMPORAL, "num_position_embeddings": 256,
          "deepstack_visual_indexes": [0, 1]}


def _tokenizer_corpus() -> list[str]:
    from mabench.builder.captions import COARSE_REGION
    from mabench.builder.cues import CUES
    from mabench.builder.questions import TEMPLATES
    from mabench.taxonomy import BODY_PARTS, COARSE_CLASSES, FINE_LABELS, MARE_LABEL_LINE, PHASES

    words = [*FINE_LABELS, *COARSE_CLASSES, *BODY_PARTS, *PHASES, *CUES.values(), *COARSE_REGION.values(),
             "Yes", "No", "A B C D E F G", "upward downward to the left to the right from side to side up and down",
             MARE_LABEL_LINE, "0.1 0.5 1.0 1.5 2.0 2.5 3.0 seconds"]
    return [t for ts in TEMPLATES.values() for t in ts] + words


def build(path: str | Path, seed: int = 0, vocab_size: int = 1024) -> Path:
    """Write the tiny model (config, safetensors, tokenizer, image and video processor configs) to `path`."""
    from mabench.models.hf import require_hf

    torch = require_hf()
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3VLConfig, Qwen3VLForConditionalGeneration

    path = Path(path)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(_tokenizer_corpus() * 4, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        additional_special_tokens=SPECIAL_TOKENS[1:])
    tokenizer.chat_template = CHAT_TEMPLATE
    ids: dict[str, int] = {}
    for t in SPECIAL_TOKENS:  # one token each: one id
        got = tokenizer.convert_tokens_to_ids(t)
        assert isinstance(got, int), f"{t}: expected one token id, got {got!r}"
        ids[t] = got
    half = TEXT["head_dim"] // 2  # mrope sections (t, h, w) split the rotary half of each head
    config = Qwen3VLConfig(
        text_config={**TEXT, "vocab_size": len(tokenizer),
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                         "mrope_section": [half // 2, half // 4, half // 4], "mrope_interleaved": True},
                     "pad_token_id": ids["<|endoftext|>"], "initializer_range": 0.2},
        vision_config={**VISION, "out_hidden_size": TEXT["hidden_size"]},
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = Qwen3VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    grid = {"patch_size": PATCH, "temporal_patch_size": TEMPORAL, "merge_size": MERGE, **MEAN_STD}
    (path / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "Qwen2VLImageProcessorFast", **grid,
        "size": {"shortest_edge": IMAGE_PIXELS[0], "longest_edge": IMAGE_PIXELS[1]}}, indent=1))
    (path / "video_preprocessor_config.json").write_text(json.dumps({
        "video_processor_type": "Qwen3VLVideoProcessor", **grid,
        "size": {"shortest_edge": VIDEO_PIXELS[0], "longest_edge": VIDEO_PIXELS[1]}}, indent=1))
    (path / "processor_config.json").write_text(json.dumps({"processor_class": "Qwen3VLProcessor"}, indent=1))
    return path
