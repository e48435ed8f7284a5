"""`mabench build`: labelled clips -> descriptors -> captions -> QA -> QC -> benchmark + training corpus.

Everything lands in OUT, one file per stage, so each can be inspected and the build resumed::

    descriptors.jsonl   motion descriptors, one line per clip (resumable, per clip)
    captions.jsonl      structured captions with their MADU / MARE texts (rewrites kept on rerun)
    benchmark.json      the test split: 12 questions per clip (official format + answer + meta)
    train_questions.json  the same for the train split (the corpus is made from these)
    corpus/             the train split (less --exclude-clips) for mabench train, LLaMA-Factory, ms-swift, TRL
                        and the Qwen-VL repo, each clip's eval frames in corpus/frames/, a README of commands
    split.json          which clips (and subjects) went where
    qc.json, qc.md      quality control
    overlays/           with --overlay: a contact sheet per clip (skeleton, head/trunk axes, signals)
    build.json          settings, versions, counts and every problem found (row / clip, reason)
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from mabench import __version__, defaults
from mabench.builder.captions import CAPTION_VERSION, Caption, Movement, caption
from mabench.builder.corpus import FRAMES_DIR, corpus_frames, read_exclude_list, samples, split_clips
from mabench.builder.exports import export_corpus
from mabench.builder.labels import LabelRow, read_label_file
from mabench.builder.paraphrase import REFERENCE, spec_error
from mabench.builder.qc import audit_qc, qc_markdown, qc_report
from mabench.builder.questions import QA_VERSION, STEM_TASKS, Stems, build_questions, reference_stems
from mabench.data.io import atomic_write_text, iter_jsonl, load_benchmark, write_json
from mabench.data.records import VIDEO_SUFFIXES
from mabench.motion.annotate import AnnotateSettings, annotate, read_descriptors
from mabench.motion.descriptors import DESCRIPTOR_VERSION
from mabench.video import SamplingConfig
from mabench.video.sampling import DEFAULT_NUM_FRAMES

OVERLAYS_DIR = "overlays"  # per-clip contact sheets (`mabench build --overlay`), named <clip stem>.png


@dataclass
class BuildSettings:
    skeletons: str | None = None
    fmt: str | None = None
    pose: str | None = None
    flow: bool = True
    seed: int = 0
    test_fraction: float = 0.2
    subject_pattern: str | None = None
    label_names: str | None = None      # label_name.txt for label indices (default: built-in order)
    workers: int = 1
    executor: str = "local"
    rewrite: str | None = None          # openai:NAME
    rewrite_base_url: str | None = None
    api_key_env: str = defaults.API_KEY_ENV
    overlay: bool = False               # contact sheets in OUT/overlays
    audit: bool = False  # QC runs `mabench audit` (text-only blind baselines) and states the leak per task
    # A benchmark file (official format) the build should read like: with `audit`, QC states the style AUC
    # per task against it and gates on it (default: the `stems_from` file, when given).
    reference: str | None = None
    # A benchmark file whose CMAR / FMAR / MADU / MARE stems the build asks with, in its proportions, instead
    # of the project's own wording: training prompts that match what the evaluation will send.
    stems_from: str | None = None
    # openai:NAME: paraphrase the Yes/No questions through `rewrite_base_url`, fact-checked (`build.paraphrase`),
    # with questions of the `reference` (or `stems_from`) file as examples of the manner to follow;
    # "reference": reword them in that file's own phrasings, fact-checked the same way (`builder.phrasings`)
    paraphrase: str | None = None
    # Frames per corpus clip, sampled as `mabench eval` samples them and written beside the corpus (0: the
    # video path only, every tool samples it itself)
    corpus_frames: int = DEFAULT_NUM_FRAMES
    # A benchmark file or a list of clip names whose clips never enter the corpus
    exclude_clips: str | None = None


MAX_LOGGED = 10  # problems printed one line each; the rest are counted (all are in build.json)


def find_clip(folder: Path, name: str) -> Path | None:
    if Path(name).name != name or name in ("", ".", ".."):
        return None  # only plain file names inside the clips folder
    cands = [folder / name] + ([folder / (name + s) for s in VIDEO_SUFFIXES] if not name.lower().endswith(
        VIDEO_SUFFIXES) else [])
    return next((c for c in cands if c.is_file()), None)


def _load_captions(path: Path) -> dict[str, Caption]:
    out: dict[str, Caption] = {}
    if path.exists():
        for _, rec in iter_jsonl(path):
            rec["movements"] = [Movement(**m) for m in rec.get("movements", [])]
            rec["order"] = [tuple(x) for x in rec.get("order", [])]
            rec["contacts"] = [tuple(x) for x in rec.get("contacts", [])]
            out[rec["clip"]] = Caption(**rec)
    return out


def build(clips_dir: str | Path, labels_path: str | Path, out: str | Path, settings: BuildSettings,
          log: Callable[[str], None] = print) -> dict:
    """Run the whole pipeline; returns the build summary (also written to OUT/build.json)."""
    reference = settings.reference or settings.stems_from  # what the build should read like (QC, paraphrase)
    if settings.paraphrase and (why := spec_error(settings.paraphrase, reference, settings.rewrite_base_url)):
        raise ValueError(why)  # before anything is measured or written
    if settings.corpus_frames < 0:
        raise ValueError(f"corpus frames must be 0 (the video path only) or more, got {settings.corpus_frames}")
    exclude = read_exclude_list(settings.exclude_clips) if settings.exclude_clips else None  # before any work
    clips_dir, out = Path(clips_dir), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labels = read_label_file(labels_path, settings.subject_pattern, settings.label_names)
    rows, problems = labels.rows, list(labels.problems)
    located: list[tuple[LabelRow, Path]] = []
    missing: list[LabelRow] = []
    for r in rows:
        path = find_clip(clips_dir, r.clip)
        if path is None:
            missing.append(r)
        else:
            located.append((r, path))
    log(f"labels: {len(rows)} labelled clips ({'mmaction2 list' if labels.format == 'list' else 'CSV'}, "
        f"label indices: {labels.label_names}, subjects: {labels.subjects or 'none'})")
    # A list of 20K clips against a partial folder must not print 20K lines: the first few, then counts.
    where = f" (all in {out / 'build.json'})" if located else ""  # build.json is only written when something builds
    for problem in problems[:MAX_LOGGED]:
        log(f"problem: {problem}")
    if len(problems) > MAX_LOGGED:
        log(f"problem: ... and {len(problems) - MAX_LOGGED} more rows that cannot be used{where}")
    if missing:
        first = ", ".join(f"{r.clip} ({labels.unit} {r.row})" for r in missing[:5])
        more = f" and {len(missing) - 5} more{where}" if len(missing) > 5 else ""
        problems.append(f"{Path(labels_path).name}: {len(missing)} of {len(rows)} listed clips not found in "
                        f"{clips_dir}: {first}{more}")
        log(f"problem: {problems[-1]}")
    if not located:
        raise ValueError(f"no usable clips: {len(problems)} problems in {labels_path} (see above)")
    stems = _stems(settings.stems_from, log)

    # 1. motion
    counts = annotate([p for _, p in located], out, AnnotateSettings(
        skeletons=settings.skeletons, fmt=settings.fmt, pose=settings.pose, flow=settings.flow,
        overlay=str(out / OVERLAYS_DIR) if settings.overlay else None),
        workers=settings.workers, executor=settings.executor)
    log(f"descriptors: {counts['done']} new, {counts['skipped']} already done, {counts['errors']} errors"
        + (f" ({counts['stale']} of an older version computed again)" if counts.get("stale") else ""))
    descs = read_descriptors(out)
    usable: list[tuple[LabelRow, Path, dict]] = []
    for r, p in located:
        d = descs.get(p.name)
        if d is None or "error" in d:
            problems.append(f"{p.name}: {d['error'] if d else 'no descriptor'}")
        else:
            usable.append((r, p, d))
    if not usable:
        raise ValueError("no clip could be annotated; see OUT/build.json for the reasons")

    # 2. captions (kept across reruns when the descriptor is unchanged, so rewrites are not redone)
    cap_path = out / "captions.jsonl"
    old = _load_captions(cap_path)
    caps: dict[str, Caption] = {}
    for r, p, d in usable:
        fresh = caption(d, r.fine, settings.seed, r.subject)
        prev = old.get(p.name)
        caps[p.name] = prev if prev is not None and prev.fine == r.fine and prev.rewrite and \
            _same_facts(prev, fresh) else fresh
    if settings.rewrite:
        from mabench.builder.rewrite import rewrite_captions

        todo = [c for c in caps.values() if not c.rewrite]
        res = rewrite_captions(todo, settings.rewrite, settings.rewrite_base_url, settings.api_key_env)
        log(f"rewrite: {res.accepted} accepted, {res.rejected} rejected by the fact check (template kept), "
            f"{res.failed} failed")
    atomic_write_text(cap_path, "".join(json.dumps(caps[p.name].to_json(), ensure_ascii=False) + "\n"
                                        for _, p, _ in usable))

    # 3. split; 4. QA per split, so each is balanced on its own
    train, test, split_info = split_clips([r for r, _, _ in usable], settings.test_fraction, settings.seed)
    write_json(out / "split.json", {**split_info, "train": sorted(train), "test": sorted(test)})
    rewording = None
    if settings.paraphrase == REFERENCE and reference:  # (checked at the start: there is one)
        from mabench.builder.phrasings import ReferencePhrasings

        rewording = ReferencePhrasings(load_benchmark(reference))
        if not rewording.pool:
            log(f"paraphrase: {reference} has no {' or '.join(rewording.tasks)} question: nothing to reword with")
    kept_out = {p.stem for r, p, _ in usable if r.clip in train and exclude and p.stem in exclude.clips}
    listed_here = {p.stem for _, p, _ in usable} & exclude.clips if exclude else set()
    if exclude is not None:
        log(f"exclude: {len(kept_out)} train-split clips kept out of the corpus ({len(listed_here)} of the "
            f"{len(exclude.clips)} listed in {exclude.source} are among the labelled clips)")
        if not listed_here:
            problems.append(f"--exclude-clips {exclude.source}: none of its {len(exclude.clips)} clip names is a "
                            "labelled clip here (names are matched without their extension); check the list")
            log(f"problem: {problems[-1]}")
    bench = build_questions(((d, caps[p.name]) for r, p, d in usable if r.clip in test), settings.seed, stems,
                            rewording)
    train_qs = build_questions(((d, caps[p.name]) for r, p, d in usable if r.clip in train and p.stem not in kept_out),
                               settings.seed + 1, stems, rewording)
    if rewording is not None:
        said = Counter(q["meta"]["paraphrase"]["status"] for q in bench + train_qs if "paraphrase" in q["meta"])
        log(f"paraphrase: {said['accepted']} asked in {reference}'s phrasings, {said['rejected']} in mabench's "
            "own (no reference wording of their type passes the fact check)")
    elif settings.paraphrase:
        from mabench.builder.paraphrase import paraphrase_questions

        para = paraphrase_questions(bench + train_qs, settings.paraphrase, settings.rewrite_base_url,
                                   settings.api_key_env, reference=load_benchmark(reference) if reference else None,
                                   cache_path=out / "paraphrases.jsonl", seed=settings.seed)
        log(f"paraphrase: {para.accepted} accepted, {para.rejected} rejected by the fact check (template kept), "
            f"{para.failed} failed, {para.reused} from {out / 'paraphrases.jsonl'}")
    write_json(out / "benchmark.json", bench, indent=1)
    questions = bench + train_qs

    # 5. corpus from the train split (less the clips kept out), each clip's frames sampled as eval samples them
    paths = {p.stem: p for _, p, _ in usable}
    corpus = None
    if train:
        write_json(out / "train_questions.json", train_qs, indent=1)
        frames = None
        if not settings.corpus_frames and (out / "corpus" / FRAMES_DIR).is_dir():
            shutil.rmtree(out / "corpus" / FRAMES_DIR)  # written by an earlier build with frames: no sample uses them
        if settings.corpus_frames:
            clips = {q["video_name"] for q in train_qs}
            frames, frame_problems = corpus_frames({c: paths[c] for c in clips}, out / "corpus",
                                                   SamplingConfig(num_frames=settings.corpus_frames), settings.workers)
            problems.extend(frame_problems)
            for problem in frame_problems[:MAX_LOGGED]:
                log(f"problem: {problem}")
        # the README's flags ask each tool for eval's frame count when the corpus carries no frames
        corpus = export_corpus(samples(train_qs, paths, frames), out / "corpus",
                               settings.corpus_frames or DEFAULT_NUM_FRAMES,
                               exclude.record(len(kept_out), len(listed_here)) if exclude else None,
                               with_frames=bool(settings.corpus_frames))
    # 6. QC of the benchmark
    qc = qc_report(bench) if bench else None
    if qc and settings.audit:
        qc["audit"] = audit_qc(out, settings.seed, reference=reference)
    if qc:
        write_json(out / "qc.json", qc)
        atomic_write_text(out / "qc.md", qc_markdown(qc))
    summary = {
        "mabench": __version__, "versions": {"descriptors": DESCRIPTOR_VERSION, "captions": CAPTION_VERSION,
                                             "qa": QA_VERSION},
        "settings": asdict(settings), "clips": {"labelled": len(rows), "usable": len(usable)},
        "questions": len(questions), "benchmark_questions": len(bench), "test_clips": len(test),
        "train_clips": len(train), "corpus_clips_kept_out": sorted(kept_out),
        "corpus": corpus, "qc_passed": qc["passed"] if qc else None,
        "stems": {t: len(v) for t, v in stems.items()} if stems is not None else None,
        "problems": problems, "missing_clips": [r.clip for r in missing],
        "labels": {"file": str(labels_path), "format": labels.format, "label_names": labels.label_names,
                   "subjects": labels.subjects},
    }
    write_json(out / "build.json", summary)
    return summary


def _stems(path: str | None, log: Callable[[str], None]) -> Stems | None:
    """The fixed-stem tasks' stems of the --stems-from benchmark (None without one), logged in one line."""
    if not path:
        return None
    stems = reference_stems(load_benchmark(path))
    if stems:
        log(f"stems: {', '.join(stems)} from {path} ({'/'.join(str(len(v)) for v in stems.values())} stems)"
            + (f"; {', '.join(t for t in STEM_TASKS if t not in stems)} keep mabench's own"
               if len(stems) < len(STEM_TASKS) else ""))
    else:
        log(f"stems: {path} has no {'/'.join(STEM_TASKS)} question; mabench's own stems kept")
    return stems


def _same_facts(a: Caption, b: Caption) -> bool:
    return a.ranking == b.ranking and [asdict(m) for m in a.movements] == [asdict(m) for m in b.movements]


def blind_check(out: str | Path, spec: str, base_url: str | None, runs: int = 3,
                api_key_env: str = defaults.API_KEY_ENV) -> dict:
    """Answer the benchmark's closed questions `runs` times without frames (text only, sampled at
    temperature 0.7 with different seeds) through the eval runner; add the result to the QC report."""
    from mabench.builder.qc import blind_hits
    from mabench.evaluation.api import evaluate
    from mabench.evaluation.run_setup import EvalSettings
    from mabench.evaluation.rundir import RunDir
    from mabench.models import GenerationConfig, make_backend
    from mabench.taxonomy import CLOSED_TASKS

    out = Path(out)
    kind, _, name = spec.partition(":")
    if kind not in ("openai", "blind") or not name:
        raise ValueError(f"--blind {spec}: expected openai:NAME")
    bench = load_benchmark(out / "benchmark.json").select(list(CLOSED_TASKS), None)
    answers = []
    for i in range(runs):
        backend = make_backend(f"blind:{name}", base_url, api_key_env)
        settings = EvalSettings(gen=GenerationConfig(temperature=0.7, seed=i))

        run = RunDir(out / "qc_blind" / f"run{i}")
        evaluate(bench, backend, run.path, settings=settings)  # default prompts, probed first
        preds = run.predictions(None)
        answers.append({q: p.pred_answer for q, p in preds.items() if p.pred_answer})
    records = json.loads((out / "benchmark.json").read_text(encoding="utf-8"))
    rep = qc_report(records, blind_hits(records, answers))
    if (out / "qc.json").exists():  # keep the audit section a --qc build wrote
        old = json.loads((out / "qc.json").read_text(encoding="utf-8"))
        if "audit" in old:
            rep["audit"] = old["audit"]
    write_json(out / "qc.json", rep)
    atomic_write_text(out / "qc.md", qc_markdown(rep))
    return rep
