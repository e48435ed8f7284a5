"""A tiny randomly initialised Qwen3-VL for the demo and the tests: the local-model and fine-tuning
paths run end to end on a CPU in seconds, with nothing downloaded.

Its tokenizer is trained on the package's own question templates and labels (hence here, in train/,
which may read build/; `models` must not, or models -> build -> models would be a cycle).

>>> path = tiny_qwen3_vl("/tmp/tiny-qwen3-vl")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from mabench.models.hf import CHAT_TEMPLATE, SPECIAL_TOKENS, require_hf


def _tokenizer_corpus() -> list[str]:
    from mabench.build.captions import COARSE_REGION
    from mabench.build.cues import CUES
    from mabench.build.qa import TEMPLATES
    from mabench.taxonomy import BODY_PARTS, COARSE_CLASSES, FINE_LABELS, MARE_LABEL_LINE, PHASES

    words = [*FINE_LABELS, *COARSE_CLASSES, *BODY_PARTS, *PHASES, *CUES.values(), *COARSE_REGION.values(),
             "Yes", "No", "A B C D E F G", "upward downward to the left to the right from side to side up and down",
             MARE_LABEL_LINE, "0.1 0.5 1.0 1.5 2.0 2.5 3.0 seconds"]
    return [t for ts in TEMPLATES.values() for t in ts] + words


def tiny_qwen3_vl(path: str | Path, seed: int = 0, vocab_size: int = 1024) -> Path:
    """Write a tiny randomly initialised Qwen3-VL (tokenizer trained here) to `path`; returns it."""
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
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    config = Qwen3VLConfig(
        text_config={"vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128,
                     "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
                     "max_position_embeddings": 8192,
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [4, 2, 2],
                                         "mrope_interleaved": True},
                     "pad_token_id": ids["<|endoftext|>"], "initializer_range": 0.2},
        vision_config={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                       "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
                       "num_position_embeddings": 256, "deepstack_visual_indexes": [0, 1]},
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
    # frame budget small enough for CPU tests: 8 frames of 64x64 -> 4 x 4 = 16 tokens per frame pair
    import json

    (path / "video_preprocessor_config.json").write_text(json.dumps({
        "size": {"shortest_edge": 8 * 32 * 32, "longest_edge": 8 * 64 * 64}, "patch_size": 16,
        "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}))
    return path
