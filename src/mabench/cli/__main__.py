"""`python -m mabench.cli ...`: the `mabench` command."""

from mabench.cli import app

app()
