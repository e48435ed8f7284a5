"""Local models and fine-tuning: a tiny Qwen3-VL built in code, evaluated through `mabench eval`,
LoRA-trained with `mabench train` on a corpus from `mabench build`, reloaded with its adapter.

The hf extra (torch, transformers, peft, trl, datasets) is optional: without it these tests skip,
except the ones that check the core never needs it and that its absence is one clear line.
"""

import asyncio
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from mabench.cli import app

HF_MISSING = [m for m in ("torch", "transformers", "peft", "trl", "datasets") if not __import__("importlib").util
              .find_spec(m)]
needs_hf = pytest.mark.skipif(bool(HF_MISSING), reason=f"hf extra not installed (missing {HF_MISSING})")


def test_core_never_imports_torch():
    code = ("import sys; import mabench.cli, mabench.models, mabench.builder.pipeline, mabench.train.sft, "
            "mabench.models.hf, mabench.report.leaderboard; sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_missing_hf_extra_is_one_line_with_the_install_command(tmp_path):
    code = ("import sys; sys.modules['torch'] = None; from mabench.cli import app; "
            f"app(['eval', 'b.json', '--model', 'hf:x', '--out', r'{tmp_path}'])")
    (tmp_path / "b.json").write_text(json.dumps([{"video_name": "v", "task": "SAD", "qid": "SAD_0",
                                                  "question": "Does it?", "answer": "Yes"}]))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and 'pip install -e ".[hf]"' in r.stderr


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    if HF_MISSING:
        pytest.skip(f"hf extra not installed (missing {HF_MISSING})")
    from mabench.testing import tiny_qwen3vl

    return tiny_qwen3vl.build(tmp_path_factory.mktemp("tiny") / "tiny-qwen3-vl")


@pytest.fixture(scope="module")
def corpus_build(tmp_path_factory):
    if HF_MISSING:
        pytest.skip(f"hf extra not installed (missing {HF_MISSING})")
    from mabench.builder.pipeline import BuildSettings, build
    from mabench.synth.generate import write_set

    root = tmp_path_factory.mktemp("hfset")
    labels = write_set(root / "synth", 10, seed=5, workers=2, subjects=5, min_s=1.5, max_s=2.5)
    build(root / "synth" / "clips", labels, root / "built", BuildSettings(
        skeletons=str(root / "synth" / "skeletons"), flow=False, test_fraction=0.4, workers=2), log=lambda m: None)
    return root


def test_video_inputs_follow_the_qwen_rules():
    from mabench.models.qwen_vl import VideoSpec, smart_resize, video_inputs, video_placeholder

    spec = VideoSpec(min_pixels=4 * 32 * 32, max_pixels=8 * 64 * 64)
    frames = [np.full((48, 80, 3), i * 20, np.uint8) for i in range(5)]   # odd count: last frame repeated
    v = video_inputs(frames, [0.0, 0.5, 1.0, 1.5, 2.0], spec)
    h, w = smart_resize(6, 48, 80, spec)
    assert (h % 32, w % 32) == (0, 0) and 6 * h * w <= spec.max_pixels
    assert v.grid_thw == (3, h // 16, w // 16)
    assert v.pixel_values.shape == (3 * (h // 16) * (w // 16), 3 * 2 * 16 * 16)
    assert v.times == [0.25, 1.25, 2.0]                  # the mean time of each frame pair
    text = video_placeholder(v, spec)
    assert text.startswith("<0.2 seconds><|vision_start|>") and text.count("<|video_pad|>") == v.num_tokens
    # first patch = the first 16x16 block of frames 0 and 1, channel-major, normalised to [-1, 1]
    first = v.pixel_values[0].reshape(3, 2, 16, 16)
    assert np.allclose(first[:, 0], -1.0) and np.allclose(first[:, 1], 20 / 255 * 2 - 1, atol=0.02)


def test_video_inputs_match_transformers_processor_when_torchvision_exists():
    pytest.importorskip("torchvision", reason="the stock video processor needs torchvision")
    import cv2
    from transformers import Qwen3VLVideoProcessor

    from mabench.models.qwen_vl import VideoSpec, video_inputs

    rng = np.random.default_rng(0)
    spec = VideoSpec(min_pixels=8 * 32 * 32, max_pixels=8 * 64 * 96)
    vp = Qwen3VLVideoProcessor(size={"shortest_edge": spec.min_pixels, "longest_edge": spec.max_pixels},
                               image_mean=[0.5] * 3, image_std=[0.5] * 3, do_sample_frames=False)
    for shape in ((8, 120, 160, 3), (7, 240, 320, 3)):  # resized both; an odd frame count is padded
        frames = np.stack([cv2.GaussianBlur(f, (0, 0), 2) for f in rng.integers(0, 255, shape, dtype=np.uint8)])
        ours = video_inputs(list(frames), list(np.arange(len(frames)) / 8), spec)
        stock = vp(videos=[frames], return_tensors="np", cap_pixels_per_frame=False)
        assert tuple(int(x) for x in stock["video_grid_thw"][0]) == ours.grid_thw
        diff = np.abs(stock["pixel_values_videos"] - ours.pixel_values)
        # the stock processor rounds the resized frame to uint8: at most one level (2/255 after normalising)
        assert diff.mean() < 1e-4 and diff.max() <= 2 / 255 + 1e-6


@needs_hf
def test_tiny_model_evaluates_through_mabench_eval(tiny, corpus_build, tmp_path):
    bench = corpus_build / "built" / "benchmark.json"
    r = CliRunner().invoke(app, ["eval", str(bench), "--videos", str(corpus_build / "synth" / "clips"),
                                 "--model", f"hf:{tiny}", "--out", str(tmp_path / "run"), "--limit", "24",
                                 "--max-tokens", "6", "--no-progress"])
    assert r.exit_code == 0, r.output
    preds = [json.loads(x) for x in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 24 and not [p for p in preds if p.get("error")]
    assert all(p["frames"]["count"] == 8 and len(p["frames"]["timestamps"]) == 8 for p in preds)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model"]["backend"] == "hf" and config["model"]["adapter"] is None


@needs_hf
def test_lora_training_lowers_the_loss_and_the_adapter_changes_answers(tiny, corpus_build, tmp_path):
    corpus = corpus_build / "built" / "corpus"
    adapter = tmp_path / "adapter"
    r = CliRunner().invoke(app, ["train", "--corpus", str(corpus), "--model", str(tiny), "--out", str(adapter),
                                 "--max-steps", "60", "--lr", "1e-2", "--batch-size", "4", "--frames", "4",
                                 "--logging-steps", "10", "--save-steps", "30"])
    assert r.exit_code == 0, r.output
    info = json.loads((adapter / "mabench_train.json").read_text())
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert info["corpus_sha256"] == manifest["sha256"] and info["steps"] == 60
    assert info["corpus_loss_after"] <= 0.7 * info["corpus_loss_before"], info  # dropped by >= 30%
    assert (adapter / "adapter_config.json").exists() and any(adapter.glob("adapter_model.*"))
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    assert "language_model" in str(cfg["target_modules"]) and "visual" not in str(cfg["target_modules"])
    assert any((adapter / "checkpoints").glob("checkpoint-*"))

    bench = corpus_build / "built" / "benchmark.json"
    answers = {}
    for name, extra in (("base", []), ("tuned", ["--adapter", str(adapter)])):
        r = CliRunner().invoke(app, ["eval", str(bench), "--videos", str(corpus_build / "synth" / "clips"),
                                     "--model", f"hf:{tiny}", "--out", str(tmp_path / name), "--limit", "12",
                                     "--max-tokens", "6", "--no-progress", *extra])
        assert r.exit_code == 0, r.output
        answers[name] = [json.loads(x)["raw_output"] for x in (tmp_path / name / "predictions.jsonl").read_text()
                         .splitlines()]
    assert answers["base"] != answers["tuned"]
    def answer_like(a: str) -> bool:
        return re.match(r"(?i)(yes|no|[A-G])(\b|$)", a.strip()) is not None

    # it has started to learn the answer format (Yes/No or a letter first)
    assert sum(map(answer_like, answers["tuned"])) > sum(map(answer_like, answers["base"]))


@needs_hf
def test_corpus_that_does_not_fit_fails_before_training(tiny, corpus_build, tmp_path):
    src = (corpus_build / "built" / "corpus" / "chat.jsonl").read_text().splitlines()
    bad = json.loads(src[1])
    user = next(m for m in bad["messages"] if m["role"] == "user")
    user["content"] = [c for c in user["content"] if c["type"] != "video"]
    (tmp_path / "chat.jsonl").write_text("\n".join([src[0], json.dumps(bad), *src[2:]]) + "\n")
    r = CliRunner().invoke(app, ["train", "--corpus", str(tmp_path), "--model", str(tiny), "--out",
                                 str(tmp_path / "a"), "--max-steps", "1"])
    assert r.exit_code == 2 and f"(id {bad['id']})" in r.output and "has 0 videos" in r.output
    assert not (tmp_path / "a" / "checkpoints").exists()


@needs_hf
def test_training_resumes_from_its_last_checkpoint(tiny, corpus_build, tmp_path):
    args = ["train", "--corpus", str(corpus_build / "built" / "corpus"), "--model", str(tiny), "--out",
            str(tmp_path / "a"), "--batch-size", "2", "--frames", "4", "--save-steps", "3", "--logging-steps", "1"]
    r = CliRunner().invoke(app, [*args, "--max-steps", "3"])
    assert r.exit_code == 0, r.output
    state_file = tmp_path / "a" / "checkpoints" / "checkpoint-3" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    for h in state["log_history"]:  # mark the first run's losses: a resumed run keeps them, a fresh one would not
        if "loss" in h:
            h["loss"] = 999.0
    state_file.write_text(json.dumps(state))
    r = CliRunner().invoke(app, [*args, "--max-steps", "5", "--resume"])
    assert r.exit_code == 0, r.output
    info = json.loads((tmp_path / "a" / "mabench_train.json").read_text())
    losses = {x["step"]: x["loss"] for x in info["losses"]}
    assert info["steps"] == 5 and [losses[k] for k in (1, 2, 3)] == [999.0] * 3 and losses[5] < 100


@needs_hf
def test_tiny_model_is_one_vllm_can_serve(tiny):
    """What vLLM's CPU build needs (issue #17): head size 32, an image processor, image and video tokens."""
    from transformers import AutoTokenizer

    cfg = json.loads((tiny / "config.json").read_text())
    text, vision = cfg["text_config"], cfg["vision_config"]
    assert (text["hidden_size"], text["num_attention_heads"], text["num_key_value_heads"], text["head_dim"],
            text["num_hidden_layers"]) == (128, 4, 2, 32, 2)
    assert (vision["depth"], vision["hidden_size"], vision["out_hidden_size"]) == (2, 64, 128)
    assert json.loads((tiny / "preprocessor_config.json").read_text())["size"]["longest_edge"] == 128 * 128
    tok = AutoTokenizer.from_pretrained(tiny)
    content = [{"type": "image"}, {"type": "image_url"}, {"type": "video"}, {"type": "text", "text": "Nod?"}]
    prompt = tok.apply_chat_template([{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True)
    assert prompt.count("<|image_pad|>") == 2 and prompt.count("<|video_pad|>") == 1
    assert prompt.endswith("Nod?<|im_end|>\n<|im_start|>assistant\n")


@needs_hf
def test_tiny_model_runs_fewshot_and_vote(tiny, corpus_build, tmp_path):
    """`fewshot:2` sends two example videos before the question's (their placeholders and pixel values
    must line up, or the model fails the question); `vote:3` samples three times and votes."""
    rows = json.loads((corpus_build / "built" / "benchmark.json").read_text())
    videos = sorted({r["video_name"] for r in rows})
    ev = [r for r in rows if r["video_name"] in videos[:2] and r["task"] in ("CMAR", "SAD")]
    sup = [r for r in rows if r["video_name"] not in videos[:2]]
    (tmp_path / "ev.json").write_text(json.dumps(ev))
    (tmp_path / "sup.json").write_text(json.dumps(sup))
    clips = str(corpus_build / "synth" / "clips")
    base = ["eval", str(tmp_path / "ev.json"), "--videos", clips, "--model", f"hf:{tiny}", "--max-tokens", "6",
            "--frames", "4", "--no-progress"]
    r = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "few"), "--strategy", "fewshot:2",
                                 "--support", str(tmp_path / "sup.json"), "--support-videos", clips])
    assert r.exit_code == 0, r.output
    preds = [json.loads(x) for x in (tmp_path / "few" / "predictions.jsonl").read_text().splitlines()]
    sup_qids = {s["qid"] for s in sup}
    assert len(preds) == len(ev) and not [p for p in preds if p.get("error")]
    assert all(len(p["examples"]) == 2 and set(p["examples"]) <= sup_qids for p in preds)

    from mabench.data import load_benchmark
    from mabench.evaluation.runner import make_request
    from mabench.evaluation.strategies import parse_strategy
    from mabench.models.base import Example
    from mabench.models.hf import HFBackend
    from mabench.video.cache import FrameCache
    from mabench.video.sampling import SamplingConfig

    backend = HFBackend(str(tiny), device="cpu")
    q = load_benchmark(tmp_path / "ev.json").questions[0]
    cache = FrameCache(SamplingConfig(num_frames=4))
    fr = [asyncio.run(cache.get(corpus_build / "synth" / "clips" / f"{v}.mp4")) for v in videos[:3]]
    req = make_request(q, parse_strategy("fewshot:2").prompts({q.task: "Answer."}), fr[0],
                       examples=(Example("Q1?", "Yes", fr[1]), Example("Q2?", "No", fr[2])))
    enc = backend._encode(req)
    assert len(enc.videos) == 3 and enc.input_ids.count(backend.video_token_id) == sum(v.num_tokens for v in enc.videos)
    # a batch mixing vote samples (temperature 0.7) with greedy questions generates each group on its own
    from dataclasses import replace

    calls = []
    backend._run_same = lambda rs: calls.append([r.gen.temperature for r in rs]) or [f"t{r.gen.temperature}"
                                                                                       for r in rs]
    hot = replace(req, gen=replace(req.gen, temperature=0.7))
    assert backend._run([req, hot, req]) == ["t0.0", "t0.7", "t0.0"] and sorted(calls) == [[0.0, 0.0], [0.7]]

    r = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "vote"), "--strategy", "vote:3"])
    assert r.exit_code == 0, r.output
    preds = [json.loads(x) for x in (tmp_path / "vote" / "predictions.jsonl").read_text().splitlines()]
    assert not [p for p in preds if p.get("error")]
    for p in preds:
        answers = [s["pred_answer"] for s in p["samples"]]
        assert len(answers) == 3 and p["vote"]["n"] == 3 and p["method"] in ("vote", "vote_tie", "vote_none")
        # the plurality of the valid answers wins; a tie for the top, or no valid answer, is no answer
        valid = [a for a in answers if a is not None]
        top = sorted({a: valid.count(a) for a in valid}.items(), key=lambda kv: -kv[1])
        unique_top = top[0][0] if top and (len(top) == 1 or top[0][1] > top[1][1]) else None
        assert p["pred_answer"] == unique_top, (answers, p["pred_answer"])


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_hf
def test_two_processes_train_resume_and_evaluate(tiny, corpus_build, tmp_path):
    """`accelerate launch` with two real processes on the CPU (gloo): they train on the corpus's own frames,
    resume from the checkpoint, and the adapter loads in `mabench eval`. (accelerate's `--cpu` flag starts a
    single process; `--multi_gpu` with `--device cpu` is what runs two.)"""
    adapter = tmp_path / "adapter"
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--main_process_port", str(_free_port()), "-m", "mabench.train",
              "--corpus", str(corpus_build / "built" / "corpus"), "--model", str(tiny), "--out", str(adapter),
              "--device", "cpu", "--save-steps", "2", "--logging-steps", "1"]
    r = subprocess.run([*launch, "--max-steps", "2"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    said = re.sub(r"\s+", " ", r.stdout)  # rich wraps long lines
    assert len(re.findall(r"trained 2 steps in \d+ s on 2 process\(es\)", said)) == 1  # the main process speaks
    first = json.loads((adapter / "mabench_train.json").read_text())
    assert first["processes"] == 2 and first["distributed"].endswith("MULTI_CPU") and first["steps"] == 2
    assert first["frames_from_corpus"] == first["clips"] > 0  # the frames `mabench eval` sends, not resampled

    r = subprocess.run([*launch, "--max-steps", "4", "--resume"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    info = json.loads((adapter / "mabench_train.json").read_text())
    assert info["steps"] == 4 and info["processes"] == 2
    assert [x["step"] for x in info["losses"]] == [1, 2, 3, 4]  # the curve carries the first run's steps
    assert [x["loss"] for x in info["losses"][:2]] == [x["loss"] for x in first["losses"]]
    assert sorted(p.name for p in (adapter / "checkpoints").glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]

    r = CliRunner().invoke(app, ["eval", str(corpus_build / "built" / "benchmark.json"), "--videos",
                                 str(corpus_build / "synth" / "clips"), "--model", f"hf:{tiny}", "--adapter",
                                 str(adapter), "--out", str(tmp_path / "run"), "--limit", "12", "--max-tokens", "4",
                                 "--no-progress"])
    assert r.exit_code == 0, r.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model"]["adapter"] == str(adapter)
    preds = [json.loads(x) for x in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 12 and not [p for p in preds if p.get("error")]


@needs_hf
def test_trl_reads_the_image_list_corpus(tiny, corpus_build):
    """trl.jsonl through `datasets` (images cast to images) and TRL's own `prepare_multimodal_messages`: one image
    placeholder per frame, before the question, in the tiny model's chat template."""
    from datasets import Image, Sequence, load_dataset
    from transformers import AutoTokenizer
    from trl.data_utils import prepare_multimodal_messages

    corpus = corpus_build / "built" / "corpus"
    ds = load_dataset("json", data_files=str(corpus / "trl.jsonl"), split="train").cast_column("images",
                                                                                             Sequence(Image()))
    chat = [json.loads(x) for x in (corpus / "chat.jsonl").read_text().splitlines()]
    assert len(ds) == len(chat)
    tok = AutoTokenizer.from_pretrained(tiny)
    for row, sample in zip(ds.select(range(12)), chat[:12], strict=True):
        assert len(row["images"]) == 8 and row["images"][0].size == row["images"][-1].size
        messages = prepare_multimodal_messages(row["messages"], row["images"])
        prompt = tok.apply_chat_template(messages, tokenize=False)
        question = sample["messages"][1]["content"][1]["text"]
        assert prompt.count("<|image_pad|>") == 8 and prompt.rindex("<|image_pad|>") < prompt.index(question)


@needs_hf
def test_shipped_zero2_config_is_one_accelerate_reads():
    """configs/accelerate_zero2.yaml (the README's multi-GPU command) parses as accelerate's config, and
    names the DeepSpeed file shipped beside it, ZeRO stage 2, its sizes left to the Trainer."""
    from pathlib import Path

    from accelerate.commands.config.config_args import load_config_from_file

    root = Path(__file__).resolve().parents[1]
    cfg = load_config_from_file(str(root / "configs" / "accelerate_zero2.yaml"))
    assert str(cfg.distributed_type).endswith("DEEPSPEED") and cfg.num_machines == 1 and not cfg.use_cpu
    ds_file = root / cfg.deepspeed_config["deepspeed_config_file"]
    ds = json.loads(ds_file.read_text())
    assert ds["zero_optimization"]["stage"] == 2
    assert ds["train_micro_batch_size_per_gpu"] == ds["gradient_accumulation_steps"] == "auto"


@needs_hf
def test_tiny_model_runs_every_video_control(tiny, corpus_build, tmp_path):
    """`--control reverse / shuffle / single / blank` end to end on the local backend: every question answered; blank
    sends no video (the reply of a prompt without video tokens differs from the plain run's)."""
    from mabench.evaluation.controls import CONTROLS

    answers = {}
    for control in CONTROLS:
        r = CliRunner().invoke(app, ["eval", str(corpus_build / "built" / "benchmark.json"), "--videos",
                                     str(corpus_build / "synth" / "clips"), "--model", f"hf:{tiny}", "--out",
                                     str(tmp_path / control), "--limit", "12", "--max-tokens", "4", "--no-progress",
                                     "--control", control])
        assert r.exit_code == 0, r.output
        preds = [json.loads(x) for x in (tmp_path / control / "predictions.jsonl").read_text().splitlines()]
        assert len(preds) == 12 and not [p for p in preds if p.get("error")], control
        assert all((p["frames"] is None) == (control == "blank") for p in preds), control
        answers[control] = [p["raw_output"] for p in preds]
    assert answers["blank"] != answers["none"]
