"""`python -m mabench.train ...` (and `accelerate launch -m mabench.train ...`): the `mabench train` command."""

from mabench.cli import app

app(["train", *__import__("sys").argv[1:]])
