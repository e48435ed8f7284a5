"""The `mabench` command: a Typer app (`common`) and thin modules of commands that call the Python API.

`bench` (info, audit), `runs` (score, eval, judge, report), `build` (synth, annotate, build, demo,
train), `integrations` (lmms-eval setup); importing them registers their commands, in this order in `mabench --help`.
"""

from mabench.cli.common import app, console, err_console, fail, os_error_message  # noqa: I001
from mabench.cli import bench, runs, build  # noqa: F401  (registers the commands, in this order)
from mabench.cli import integrations  # noqa: F401  (the `mabench integrations` group)

__all__ = ["app", "console", "err_console", "fail", "os_error_message"]
