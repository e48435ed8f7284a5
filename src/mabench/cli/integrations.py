"""`mabench integrations ...`: set MA-Bench up for other harnesses (lmms-eval; inspect_ai needs nothing,
its tasks are entry points; VLMEvalKit runs through `python -m mabench.integrations.vlmevalkit`)."""

from __future__ import annotations

from pathlib import Path

import typer

from mabench.cli.common import app, console, fail, os_error_message
from mabench.data import BenchmarkError

integrations_app = typer.Typer(help="Run MA-Bench inside other harnesses (lmms-eval, inspect_ai, VLMEvalKit).",
                               no_args_is_help=True)
app.add_typer(integrations_app, name="integrations")


@integrations_app.command("lmms-eval")
def lmms_eval(bench: Path = typer.Option(..., "--bench", help="Benchmark file with answers."),
              videos: Path = typer.Option(..., "--videos", help="Folder of the clips."),
              out: Path = typer.Option(Path("mabench-lmms-eval"), "--out", help="Folder to write the tasks to."),
              sampling: str = typer.Option("uniform", help="uniform, fps, fps3 or kit (the official runner's frames)."),
              frames: int = typer.Option(8, help="Frames per clip (uniform)."),
              fps: float = typer.Option(2.0, help="Frame rate (fps sampling).")) -> None:
    """Write the `mabench` lmms-eval task group (8 tasks) and its data files; print the --include_path."""
    from mabench.integrations.lmms_eval import write_tasks

    if not videos.is_dir():
        fail(f"{videos}: not a folder of clips; pass --videos DIR")
    try:
        path = write_tasks(bench, videos, out, sampling, frames, fps)
    except BenchmarkError as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e))
    console.print(f"wrote the mabench task group to {path}; run it with:")
    console.print(f"python -m lmms_eval --include_path {path.absolute()} --tasks mabench --model openai "
                  "--model_args model_version=NAME,base_url=URL --output_path results/", soft_wrap=True)
    print(f"--include_path {path.absolute()}")
