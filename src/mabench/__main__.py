"""`python -m mabench ...`: the `mabench` command."""

from mabench.cli import app

app(prog_name="mabench")
