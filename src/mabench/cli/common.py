"""The `mabench` Typer app and what every command shares: one-line failures, file-error messages."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from mabench import __version__
from mabench.data.io import MalformedLineError
from mabench.taxonomy import parse_task_codes


def _plain_help() -> None:
    """typer 0.2x's help writes `<bool>` after every flag and wraps a required argument in braces in the
    usage line (`{BENCH}`); mabench's help shows neither. Applied to typer's own parameter classes where
    they have these hooks (an older or newer typer without them is left as it is)."""
    from typer import core

    opt, arg = getattr(core, "TyperOption", None), getattr(core, "TyperArgument", None)
    if opt is not None and callable(getattr(opt, "display_type_rich", None)):
        shown = opt.display_type_rich

        def display_type_rich(self, ctx):  # a flag takes no value: no type to show
            return None if getattr(self, "is_flag", False) else shown(self, ctx)

        opt.display_type_rich = display_type_rich
    if arg is not None and callable(getattr(arg, "_usage_display_name", None)):
        usage = arg._usage_display_name

        def _usage_display_name(self):
            name = usage(self)
            dots = "..." if name.endswith("...") else ""
            core_name = name[: len(name) - len(dots)]
            if core_name.startswith("{") and core_name.endswith("}"):
                core_name = core_name[1:-1]
            return core_name + dots

        arg._usage_display_name = _usage_display_name


_plain_help()

app = typer.Typer(
    help="Evaluate, build and report micro-action understanding benchmarks (MA-Bench) for MLLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr, then exit."""
    # escaped: messages carry user text and install hints like ".[hf]" that are not markup
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def os_error_message(err: OSError, kept: str | None = None, file: str | Path | None = None) -> str:
    """One line for a file-system error a user can fix: the file, what happened, what to do.
    `kept` names where the finished work is (a full disk mid-run loses nothing already written); `file`
    is the file being written when the error does not name one (a failed write to an open file)."""
    import errno

    if err.errno is None:  # raised with our own message (e.g. "no predictions.jsonl; ...")
        return str(err)
    where = err.filename or (str(file) if file is not None else "a file")
    what = (err.strerror or str(err)).lower()
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "the folder is read-only or not yours; choose a writable output folder"
    elif err.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some space (or choose a folder on another disk) and re-run the same command"
    elif err.errno == errno.ENOENT:
        hint = "check the path"
    else:
        hint = "fix it and re-run the same command"
    return f"{where}: {what}; {hint}" + (f"; finished answers are kept in {kept}" if kept else "")


class Terminated(KeyboardInterrupt):
    """SIGTERM ended the command (see `on_sigterm`)."""


_TERMINATED = {"yes": False}


def on_sigterm() -> None:
    """Make SIGTERM end the command as Ctrl-C does, instead of without a word: the handler raises SIGINT,
    so `asyncio.run` cancels the run and winds its tasks down cleanly (in-flight work dropped, finished
    work kept), and `was_terminated()` tells the caller's KeyboardInterrupt handler which signal it was."""
    import signal

    def handler(signum, frame):  # noqa: ARG001
        _TERMINATED["yes"] = True
        signal.raise_signal(signal.SIGINT)

    try:
        signal.signal(signal.SIGTERM, handler)
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            # a background job (`mabench eval … &` from a script) starts with SIGINT ignored: SIGTERM, raised as
            # SIGINT, would then be swallowed and `kill` would not stop the run
            signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread (a test runner's worker): leave it
        pass


def was_terminated(err: BaseException) -> bool:
    """True when a KeyboardInterrupt came from SIGTERM (`on_sigterm`)."""
    return isinstance(err, Terminated) or _TERMINATED["yes"]


def _version(value: bool) -> None:
    if value:
        console.print(f"mabench {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    pass


def _csv(value: str | None) -> list[str] | None:
    if not value:
        return None
    try:
        return parse_task_codes(value)
    except ValueError as e:
        fail(str(e))


def _malformed_message(e: MalformedLineError, command: str) -> str:
    return (f"{e}; nothing was changed: re-run {command} with --repair to set the unreadable line(s) "
            f"aside in {e.path.name}.bad and go on")


def _repair(path: Path) -> None:
    from mabench.data.io import repair_jsonl

    try:
        lines = repair_jsonl(path, "qid")
    except OSError as e:
        fail(os_error_message(e))
    if lines:
        shown = ", ".join(map(str, lines[:10])) + (" ..." if len(lines) > 10 else "")
        console.print(f"[yellow]repair: {len(lines)} unreadable line(s) of {escape(str(path))} (line {shown}) set "
                      f"aside in {escape(path.name)}.bad[/]")
