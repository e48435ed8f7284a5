"""`mabench synth`, `annotate`, `build`, `demo`, `train`: clips to benchmarks, corpora and adapters."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import typer
from rich.markup import escape

from mabench import defaults
from mabench.cli.common import app, console, fail
from mabench.video.sampling import DEFAULT_NUM_FRAMES

# --- motion: synthetic clips and annotation --------------------------------------------------------

SKELETONS_OPT = typer.Option(None, "--skeletons", help="Folder of skeleton files named after the clips.")
FORMAT_OPT = typer.Option(
    None, "--format", help="coco17, wholebody133, halpe136, mediapipe33, openpose25 or mabench (default: detect).")
POSE_OPT = typer.Option(None, "--pose", help="Pose backend to run when there are no skeleton files: mediapipe.")
FLOW_OPT = typer.Option(True, "--flow/--no-flow", help="Optical-flow energy around each part.")


def _check_skeleton_source(command: str, skeletons: Path | None, pose: str | None) -> None:
    """One of --skeletons / --pose, usable, before any work starts."""
    if skeletons is None and pose is None:
        fail(f"{command} needs a skeleton source: --skeletons DIR (files named after the clips) or --pose mediapipe")
    if skeletons is not None and not skeletons.is_dir():
        fail(f"--skeletons {skeletons}: not a folder")
    if pose is not None:
        from mabench.motion.pose import make_pose_backend
        from mabench.motion.skeleton import SkeletonError

        try:
            make_pose_backend(pose)
        except SkeletonError as e:
            fail(str(e))

@app.command()
def synth(
    out: Path = typer.Option(..., "--out", help="Folder for clips/, skeletons/, truth/ and labels.csv."),
    n: int | None = typer.Option(None, "--n", "--clips", min=1,
                                 help="Number of clips (default 52, placeholders 5; actions cycle, so classes stay "
                                      "balanced)."),
    seed: int = typer.Option(0, help="Random seed; the same seed writes the same set."),
    width: int = typer.Option(320, min=64),
    height: int = typer.Option(240, min=64),
    fps: int = typer.Option(25, min=5, max=120),
    min_seconds: float = typer.Option(2.0, help="Shortest clip (1-5 s)."),
    max_seconds: float = typer.Option(4.0, help="Longest clip (1-5 s)."),
    workers: int = typer.Option(defaults.WORKERS, help="Processes rendering clips."),
    no_video: bool = typer.Option(False, "--no-video", help="Skeletons and truth only (fast; for validation)."),
    masked_face: bool = typer.Option(False, "--masked-face",
                                     help="Pixelate the face as MA-52's are, and place the skeleton's face points "
                                          "from the head's outline as a pose model does on a mosaic."),
    placeholder: bool = typer.Option(False, "--placeholder",
                                     help="Instead: box clips and a 12-question benchmark (OUT/bench.json, with "
                                          "answers) for a dry run of eval / judge / report."),
) -> None:
    """Write synthetic micro-action clips of a seated figure, with exact keypoints and ground truth."""
    from mabench.synth.generate import ACTIONS, write_set

    t0 = time.perf_counter()
    if placeholder:
        from mabench.synth.simple import write_placeholder_set

        n = n or 5
        console.print(f"wrote {write_placeholder_set(out, n, seed)} and {n} clips in {out / 'clips'}")
        return
    n = n or 52
    try:
        labels = write_set(out, n, seed=seed, video=not no_video, workers=workers, width=width, height=height,
                           fps=fps, min_s=min_seconds, max_s=max_seconds, masked_face=masked_face)
    except ValueError as e:
        fail(str(e))
    console.print(f"wrote {n} clips ({len(ACTIONS)} actions) to {out} in {time.perf_counter() - t0:.1f} s; "
                  f"labels: {labels}")


@app.command()
def annotate(
    clips: Path = typer.Argument(..., metavar="CLIPS", help="A clip or a folder of clips."),
    out: Path = typer.Option(..., "--out", help="Folder for descriptors.jsonl (resumed if it exists)."),
    skeletons: Path | None = SKELETONS_OPT,
    skeleton_format: str | None = FORMAT_OPT,
    pose: str | None = POSE_OPT,
    flow: bool = FLOW_OPT,
    workers: int = typer.Option(defaults.WORKERS, help="Processes."),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="Try clips that failed before again."),
    overlay: Path | None = typer.Option(None, "--overlay", help="Folder for a contact sheet per clip (PNG: frames "
                                        "with the skeleton and head/trunk axes, and the main signals)."),
    executor: str = typer.Option("local", help="local (process pool) or ray (RAY_ADDRESS or a local instance)."),
    clip_timeout: float = typer.Option(defaults.CLIP_TIMEOUT_S, "--clip-timeout", min=1.0,
                                       help="Seconds a clip may take before it is stopped and recorded as an "
                                            "error (either executor)."),
) -> None:
    """Per-part motion descriptors for each clip (one JSON line per clip)."""
    from mabench.motion.annotate import AnnotateSettings, list_clips
    from mabench.motion.annotate import annotate as run_annotate

    _check_skeleton_source("annotate", skeletons, pose)
    try:
        todo = list_clips(clips)
    except FileNotFoundError as e:
        fail(str(e))
    if not todo:
        from mabench.data.records import VIDEO_SUFFIXES

        fail(f"{clips}: no video clips ({', '.join(VIDEO_SUFFIXES)})")
    settings = AnnotateSettings(skeletons=str(skeletons) if skeletons else None, fmt=skeleton_format, pose=pose,
                                flow=flow, overlay=str(overlay) if overlay else None, clip_timeout_s=clip_timeout)
    t0 = time.perf_counter()
    errors: list[str] = []
    if executor not in ("local", "ray"):
        fail(f"--executor {executor}: expected local or ray")
    counts = run_annotate(todo, out, settings, workers=workers, retry_errors=retry_errors, executor=executor,
                          on_done=lambda r: errors.append(f"{r['clip']}: {r['error']}") if "error" in r else None)
    for line in errors[:20]:
        console.print(f"[yellow]error[/] {escape(line)}")
    console.print(f"{counts['done']} clips annotated, {counts['errors']} errors, {counts['skipped']} already done; "
                  f"{time.perf_counter() - t0:.1f} s -> {out / 'descriptors.jsonl'}")


# --- build ----------------------------------------------------------------------------------------

def _check_benchmark_file(option: str, path: Path) -> None:
    """A reference benchmark that exists and loads, before any work starts."""
    from mabench.data import load_benchmark

    if not path.is_file():
        fail(f"{option} {path}: no such file")
    try:
        load_benchmark(path)
    except (ValueError, OSError) as e:
        fail(f"{option}: {e}")


@app.command()
def build(
    clips: Path = typer.Argument(..., metavar="CLIPS", help="Folder with the labelled clips."),
    labels: Path = typer.Option(..., "--labels", help="CSV (clip, label name / MA-52 code / index, optional "
                                "subject) or an mmaction2 list ('<clip> <label index>' lines, as MA-52 ships)."),
    label_names: Path | None = typer.Option(
        None, "--label-names", help="label_name.txt ('<index> <label>' lines) for label indices; default: the "
        "built-in order, which is MA-52's."),
    out: Path = typer.Option(..., "--out", help="Output folder (resumed if it exists)."),
    skeletons: Path | None = SKELETONS_OPT,
    skeleton_format: str | None = FORMAT_OPT,
    pose: str | None = POSE_OPT,
    flow: bool = FLOW_OPT,
    seed: int = typer.Option(0, help="Seed of phrasings, option order, balance and the split."),
    test_fraction: float = typer.Option(0.2, help="Share of clips in the benchmark; the rest is the corpus."),
    corpus_frames: int = typer.Option(
        DEFAULT_NUM_FRAMES, "--corpus-frames", min=0,
        help="Frames per corpus clip, sampled and encoded as `mabench eval` sends them (its default count), written "
        "to OUT/corpus/frames/ and given to every format that takes a frame list; 0: the video path only."),
    exclude_clips: Path | None = typer.Option(
        None, "--exclude-clips", help="A benchmark file (.json / .jsonl) or a list of clip names (one per line): "
        "those clips never enter the corpus (the manifest records how many and the file's hash)."),
    subject_pattern: str | None = typer.Option(
        None, help="Regex whose first group is the subject id in a clip name (when the CSV has no subject; "
        "default: MA-52 names, 0003_01_0001.mp4 -> 0003)."),
    workers: int = typer.Option(defaults.WORKERS, help="Processes (or Ray CPUs)."),
    executor: str = typer.Option("local", help="local (process pool) or ray (RAY_ADDRESS or a local instance)."),
    rewrite: str | None = typer.Option(None, help="Rewrite captions with an LLM: openai:NAME (fact-checked)."),
    base_url: str | None = typer.Option(None, "--base-url", help="Endpoint for --rewrite and --blind."),
    api_key_env: str = typer.Option(defaults.API_KEY_ENV, "--api-key-env"),
    qc: bool = typer.Option(False, "--qc", help="Also audit the built questions (text-only blind baselines: the "
                            "leak per task) and print the quality-control report (always written to qc.md)."),
    blind: str | None = typer.Option(None, help="QC blind check: answer without frames with openai:NAME."),
    blind_runs: int = typer.Option(3, min=1, help="Blind runs for --blind."),
    overlay: bool = typer.Option(False, "--overlay", help="Write a contact sheet per clip to OUT/overlays "
                                 "(the report's question browser shows them)."),
    reference: Path | None = typer.Option(
        None, "--reference", help="A benchmark file (official format) the build should read like. With --qc, QC "
        "compares all built questions with it (style reported, question-type mix gated); with --paraphrase, its "
        "questions are the examples (default: the --stems-from file)."),
    paraphrase: str | None = typer.Option(
        None, "--paraphrase", help="Paraphrase the SAD/MAD/MAS/PPR questions with an LLM: openai:NAME at --base-url. "
        "Each reply must keep the question's parts, directions, phases, time spans and relation, or the template "
        "question stays; --reference (or --stems-from) questions of the same type are shown as examples. "
        "'reference': no model, ask MAS and PPR in --reference questions' own phrasings, checked the same way "
        "and fact-neutral outside their slots."),
    stems_from: Path | None = typer.Option(
        None, "--stems-from", help="Ask CMAR, FMAR, MADU and MARE with the stems of this benchmark file, in its "
        "proportions, instead of mabench's own wording, so that training prompts match what the evaluation will "
        "send (tasks the file lacks keep mabench's stems)."),
) -> None:
    """Build a benchmark and a training corpus from labelled clips (motion -> captions -> QA -> QC)."""
    from mabench.builder.labels import LabelsError
    from mabench.builder.paraphrase import spec_error
    from mabench.builder.pipeline import BuildSettings, blind_check
    from mabench.builder.pipeline import build as run_build

    _check_skeleton_source("build", skeletons, pose)
    if not clips.is_dir():
        fail(f"{clips}: not a folder of clips")
    if executor not in ("local", "ray"):
        fail(f"--executor {executor}: expected local or ray")
    if executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            fail("--executor ray needs Ray: pip install 'mabench[ray]'")
    if paraphrase is not None and (why := spec_error(paraphrase, str(reference or stems_from or ""), base_url)):
        fail(why)
    if (rewrite or blind) and not base_url:
        fail("--rewrite / --blind need --base-url (an OpenAI-compatible endpoint)")
    if reference is not None and not qc and not paraphrase:
        fail("--reference serves QC (the style gate) and --paraphrase (style examples): add --qc or --paraphrase; "
             "--stems-from FILE asks with a reference's stems")
    for option, path in (("--reference", reference), ("--stems-from", stems_from)):
        if path is not None:
            _check_benchmark_file(option, path)
    if exclude_clips is not None:
        from mabench.builder.corpus import read_exclude_list

        try:
            read_exclude_list(exclude_clips)
        except ValueError as e:
            fail(str(e))
    settings = BuildSettings(skeletons=str(skeletons) if skeletons else None, fmt=skeleton_format, pose=pose,
                             flow=flow, seed=seed, test_fraction=test_fraction, subject_pattern=subject_pattern,
                             label_names=str(label_names) if label_names else None,
                             workers=workers, executor=executor, rewrite=rewrite, rewrite_base_url=base_url,
                             api_key_env=api_key_env, overlay=overlay, audit=qc,
                             reference=str(reference) if reference else None,
                             stems_from=str(stems_from) if stems_from else None, paraphrase=paraphrase,
                             corpus_frames=corpus_frames, exclude_clips=str(exclude_clips) if exclude_clips else None)
    from mabench.models import EndpointError

    t0 = time.perf_counter()
    try:
        summary = run_build(clips, labels, out, settings, log=lambda m: console.print(m, markup=False))
        if blind:
            blind_check(out, blind, base_url, blind_runs, api_key_env)
    except (LabelsError, ValueError, EndpointError) as e:
        fail(str(e))
    console.print(f"built {summary['questions']} questions for {summary['clips']['usable']} of "
                  f"{summary['clips']['labelled']} labelled clips in {time.perf_counter() - t0:.1f} s: "
                  f"benchmark {out / 'benchmark.json'} ({summary['benchmark_questions']} questions, "
                  f"{summary['test_clips']} clips), corpus {summary['train_clips']} clips"
                  + (f" in {out / 'corpus'}" if summary["corpus"] else ""))
    if summary["problems"]:
        console.print(f"[yellow]{len(summary['problems'])} problems[/] (listed in {out / 'build.json'})")
    if qc and (out / "qc.md").exists():
        console.print((out / "qc.md").read_text(encoding="utf-8"), markup=False)
    if qc and (out / "qc.json").exists():  # the gates: the benchmark stays written (qc.md marks it), the exit fails
        from mabench.builder.qc import qc_gate

        gate = qc_gate(json.loads((out / "qc.json").read_text(encoding="utf-8")))
        if not gate["passed"]:
            console.print("[red]QC gate failed[/]: " + escape("; ".join(gate["failures"])))
            raise typer.Exit(1)


@app.command()
def demo(
    out: Path = typer.Option(Path("mabench-demo"), "--out", help="Folder for everything the demo makes."),
    clips: int = typer.Option(24, "--clips", min=4, help="Synthetic clips to make."),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic clips, the built questions and the baselines."),
) -> None:
    """Offline tour: synthetic clips -> built benchmark -> baselines evaluated -> HTML report."""
    import importlib

    from mabench.demo import run_demo

    # the report at the end needs the report extra: say so before the work, not after it
    missing = []
    for m in ("matplotlib", "jinja2"):
        try:
            importlib.import_module(m)
        except ImportError:
            missing.append(m)
    if missing:
        fail(f"the demo's report needs the report extra ({', '.join(missing)} missing): "
             "pip install \"mabench[report]\" (or, in a checkout, pip install -e \".[report]\")")
    t0 = time.perf_counter()
    try:
        res = run_demo(out, clips, seed, workers=max(1, min(4, os.cpu_count() or 1)),
                       log=lambda m: console.print(m, markup=False))
    except ImportError as e:
        if e.name in ("matplotlib", "jinja2"):
            fail(f"the demo's report needs the report extra ({e.name} is missing): pip install -e \".[report]\"")
        fail(str(e))
    console.print(f"done in {time.perf_counter() - t0:.0f} s. Open the report: {res['index'].resolve()}")
    console.print(f"leaderboard: {out / 'report' / 'leaderboard.md'}; your model next: mabench eval "
                  f"{res['benchmark']} --videos {out / 'synth' / 'clips'} --model openai:NAME --base-url URL "
                  f"--out {out / 'runs' / 'NAME'}")


# --- train ------------------------------------------------------------------------------------------

@app.command()
def train(
    corpus: Path = typer.Option(..., "--corpus", help="A `mabench build` corpus folder (corpus/) or its chat.jsonl."),
    model: str = typer.Option(..., "--model", help="Base model: a local folder or hub id (Qwen3-VL, Qwen2.5-VL)."),
    out: Path = typer.Option(..., "--out", help="Adapter folder (checkpoints in OUT/checkpoints)."),
    epochs: float = typer.Option(1.0, help="Passes over the corpus."),
    max_steps: int = typer.Option(-1, help="Stop after this many optimizer steps (overrides --epochs)."),
    learning_rate: float = typer.Option(2e-4, "--lr"),
    batch_size: int = typer.Option(1, min=1),
    grad_accum: int = typer.Option(1, min=1),
    lora_r: int = typer.Option(16, min=1),
    lora_alpha: int = typer.Option(32, min=1),
    frames: int = typer.Option(8, min=2, help="Frames per clip: the corpus's own (the frames `mabench eval` sends) "
                               "when it has this many, else sampled from the video."),
    max_side: int | None = typer.Option(
        None, help="Downscale frames to this longest side before the model's resize (less memory per step). "
        "Default: the corpus's frames as `mabench eval` sends them; clips sampled from the video at "
        f"{defaults.TRAIN_MAX_SIDE}."),
    gradient_checkpointing: bool = typer.Option(True, "--gradient-checkpointing/--no-gradient-checkpointing"),
    save_steps: int = typer.Option(200, min=1),
    logging_steps: int = typer.Option(10, min=1),
    seed: int = typer.Option(0),
    device: str | None = typer.Option(None, help="cuda / cpu (default: cuda if any)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint in OUT/checkpoints."),
) -> None:
    """LoRA fine-tuning (TRL + PEFT) of a video-language model on a `mabench build` corpus."""
    try:
        from mabench.train.sft import CorpusError, TrainSettings
        from mabench.train.sft import train as run_train
    except ImportError as e:
        fail(str(e))
    settings = TrainSettings(lora_r=lora_r, lora_alpha=lora_alpha, learning_rate=learning_rate, epochs=epochs,
                             max_steps=max_steps, batch_size=batch_size, grad_accum=grad_accum, num_frames=frames,
                             max_side=max_side, gradient_checkpointing=gradient_checkpointing, save_steps=save_steps,
                             logging_steps=logging_steps, seed=seed, device=device)
    t0 = time.perf_counter()
    try:
        info = run_train(corpus, model, out, settings, resume=resume, log=lambda m: console.print(m, markup=False))
    except ImportError as e:
        fail(str(e))
    except (CorpusError, OSError) as e:
        fail(str(e))
    if info["processes"] > 1 and os.environ.get("RANK", "0") != "0":
        return  # the main process speaks for the run
    first, last = (info["losses"][0]["loss"], info["losses"][-1]["loss"]) if info["losses"] else (None, None)
    console.print(f"trained {info['steps']} steps in {time.perf_counter() - t0:.0f} s "
                  f"on {info['processes']} process(es) ({info['trainable_parameters']:,} LoRA parameters)"
                  + (f"; loss {first:.3f} -> {last:.3f}" if first is not None else "")
                  + f"; adapter: {out}  (evaluate: mabench eval BENCH --model hf:{model} --adapter {out} ...)")
