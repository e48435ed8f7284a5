"""`python -m mabench.synth ...`: the `mabench synth` command (`--placeholder` for dry-run clips)."""

import sys

from mabench.cli import app

app(["synth", *sys.argv[1:]], prog_name="mabench synth")
