"""MA-Bench in VLMEvalKit: a launcher that registers an `MABench` video dataset, then runs VLMEvalKit.

VLMEvalKit registers datasets statically (`DATASET_CLASSES`, `supported_video_datasets`), so an outside
dataset must be added before its `run.main()` parses the command line:

    python -m mabench.integrations.vlmevalkit --bench bench.json --videos clips/ -- --data MABench --model GPT4o

Everything after `--` is VLMEvalKit's own command line. The dataset is mabench's:

- `build_prompt`: mabench's system prompt (as a first text part: VLMEvalKit messages have no system
  role), the clip's frames sampled by `mabench.video` (the JPEGs `mabench eval` sends, written once to
  `--frames-dir`), then the question text;
- `evaluate`: the predictions become a mabench submission (`<eval_file>.mabench.json`) scored by
  `mabench.score`, the one scoring path; closed tasks only (judge the open answers with mabench).

Needs VLMEvalKit installed (`pip install ms-vlmeval`, or its repository); nothing here imports it until
`main()` runs. Checked by hand, not in CI (see README, "VLMEvalKit").
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from functools import partial
from pathlib import Path
from typing import Any

from mabench.integrations import common
from mabench.video.sampling import SamplingConfig

DATASET_NAME = "MABench"


class MABenchVideo:
    """Duck-types VLMEvalKit's `VideoBaseDataset` (what its video inference and `run.py` read)."""

    MODALITY = "VIDEO"
    TYPE = "Video-VQA"

    def __init__(self, dataset: str = DATASET_NAME, *, bench: str, videos: str, frames_dir: str,
                 sampling: SamplingConfig | None = None, nframe: int = 0, fps: float = -1, pack: bool = False,
                 **_: Any) -> None:
        import pandas as pd

        self.dataset_name = dataset
        self.bench, self.videos_dir = bench, videos
        self.cfg = sampling or SamplingConfig()
        self.nframe = nframe or self.cfg.num_frames  # only names VLMEvalKit's result files
        self.fps = fps
        self.pack = False  # one question per request: mabench sends each question on its own
        self.frames_dir = Path(frames_dir)
        self.questions = common.load_questions(bench)
        self.data = pd.DataFrame([{"index": i, "qid": q.qid, "task": q.task, "video": q.video_id,
                                   "question": q.question, "answer": q.answer}
                                  for i, q in enumerate(self.questions)])
        self.videos = sorted(set(self.data["video"]))

    @classmethod
    def supported_datasets(cls) -> list[str]:
        return [DATASET_NAME]

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, idx: int) -> dict[str, Any]:
        return dict(self.data.iloc[idx])

    def frame_paths(self, video: str) -> list[str]:
        """mabench's sampled JPEGs of the clip, written once under frames_dir."""
        out = self.frames_dir / video
        frames = common.sampled_frames(self.videos_dir, video, self.cfg)
        paths = [out / f"frame-{i:02d}.jpg" for i in range(len(frames.jpegs))]
        if not all(p.exists() for p in paths):
            out.mkdir(parents=True, exist_ok=True)
            for p, jpeg in zip(paths, frames.jpegs, strict=True):
                p.write_bytes(jpeg)
        return [str(p) for p in paths]

    def build_prompt(self, line: Any, video_llm: bool = False) -> list[dict[str, str]]:  # noqa: ARG002
        """[system text, frames..., question]: the turn `mabench eval` sends, as VLMEvalKit messages."""
        # VLMEvalKit passes a row position (int or numpy int), a model's custom prompt passes the row
        q = self.questions[int(line["index"]) if hasattr(line, "__getitem__") else int(line)]
        system, user = common.turn(q)
        return ([{"type": "text", "value": system}]
                + [{"type": "image", "value": p} for p in self.frame_paths(q.video)]
                + [{"type": "text", "value": user}])

    def evaluate(self, eval_file: str, **judge_kwargs: Any) -> dict[str, float | None]:  # noqa: ARG002
        """Score VLMEvalKit's predictions with mabench (extraction and the scoring formula)."""
        import pandas as pd

        import mabench

        preds = pd.read_excel(eval_file) if str(eval_file).endswith(".xlsx") else pd.read_csv(eval_file, sep="\t")
        sub = Path(f"{eval_file}.mabench.json")
        answers = [{"qid": str(r["qid"]), "pred_answer": "" if pd.isna(r["prediction"]) else str(r["prediction"])}
                   for _, r in preds.iterrows()]
        sub.write_text(json.dumps({"prompts": [], "answers": answers}, ensure_ascii=False), encoding="utf-8")
        cols = mabench.score(sub, key=self.bench).columns()
        return {k: v for k, v in cols.items() if v is not None}


def register(bench: str, videos: str, frames_dir: str, sampling: SamplingConfig | None = None) -> None:
    """Add `MABench` to VLMEvalKit's registries (the dict objects its `run.py` imported, mutated in place)."""
    import vlmeval.dataset as vd
    from vlmeval.dataset import video_dataset_config as vcfg

    if MABenchVideo not in vd.DATASET_CLASSES:
        vd.DATASET_CLASSES.append(MABenchVideo)
    vcfg.supported_video_datasets[DATASET_NAME] = partial(MABenchVideo, dataset=DATASET_NAME, bench=bench,
                                                          videos=videos, frames_dir=frames_dir, sampling=sampling)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, theirs = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    ap = argparse.ArgumentParser(prog="python -m mabench.integrations.vlmevalkit",
                                 description="Register MA-Bench as VLMEvalKit's `MABench` dataset and run "
                                             "VLMEvalKit with the arguments after `--`.")
    ap.add_argument("--bench", required=True, help="benchmark file with answers")
    ap.add_argument("--videos", required=True, help="folder of the clips")
    ap.add_argument("--frames-dir", default="mabench-vlmeval-frames", help="where the sampled frames are written")
    ap.add_argument("--sampling", default="uniform", help="uniform, fps, fps3 or kit (the runner's frames)")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--vlmevalkit", default=".", help="a VLMEvalKit checkout (for its run.py) when the installed "
                                                       "package has no vlmeval.run")
    args = ap.parse_args(ours)
    try:
        import vlmeval  # noqa: F401
    except ImportError:
        sys.exit("VLMEvalKit is not installed: pip install ms-vlmeval (or install its repository)")
    register(str(Path(args.bench).absolute()), str(Path(args.videos).absolute()), args.frames_dir,
             common.sampling_config(args.sampling, args.frames, args.fps))
    sys.argv = ["run.py", *theirs]
    try:  # packaged builds carry run.py as vlmeval.run; the repository has it at its root
        from vlmeval import run  # type: ignore[attr-defined]
    except ImportError:
        run_py = Path(args.vlmevalkit) / "run.py"
        if not run_py.exists():
            sys.exit(f"no VLMEvalKit run.py: pass --vlmevalkit DIR (a VLMEvalKit checkout); {run_py} does not exist")
        runpy.run_path(str(run_py), run_name="__main__")
        return
    run.main()


if __name__ == "__main__":
    main()
