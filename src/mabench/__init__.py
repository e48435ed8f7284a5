"""mabench: evaluate, build and report micro-action understanding benchmarks for MLLMs.

The Python API (`mabench.api`), loaded on first use so that `import mabench` stays light::

    import mabench

    res = mabench.evaluate("bench.json", "openai:MODEL", "runs/m", videos="clips/",
                           base_url="http://127.0.0.1:8000/v1")
    mabench.judge("runs/m", ["openai:JUDGE"], base_url="http://127.0.0.1:8001/v1")
    print(mabench.score("runs/m").final)
    mabench.report(["runs/m"], "report/")
    run = mabench.open_run("runs/m")
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = ("evaluate", "judge", "score", "report", "build", "open_run")
__all__ = ["__version__", "build", "evaluate", "judge", "open_run", "report", "score"]

if TYPE_CHECKING:
    from mabench.api import build, evaluate, judge, open_run, report, score


class _Package(types.ModuleType):
    """`mabench.report` names both an API function and a subpackage. Python sets
    a package attribute for every subpackage it imports, which would replace the function; this
    keeps the API names for the API. The subpackages stay importable by their dotted names
    (`from mabench.report.leaderboard import build_report`), not as attributes of `mabench`."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _API:
        from mabench import api

        return getattr(api, name)
    raise AttributeError(f"module 'mabench' has no attribute {name!r}")
