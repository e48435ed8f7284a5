"""Structure: no import cycle between packages or modules, and every module imports on its own.

Package level counts every import (deferred ones too: a cycle hidden in a function is still a
cycle); `__main__` modules are entry points and import the CLI by design.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mabench

SRC = Path(mabench.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for f in sorted(SRC.rglob("*.py")):
        parts = f.relative_to(SRC.parent).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


def _imports(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in names if n.split(".")[0] == "mabench"}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "mabench"


def test_no_import_cycle_between_packages():
    edges: dict[str, set[str]] = {}
    for mod, path in _modules().items():
        for name in _imports(path, top_level_only=False):
            a, b = _package(mod), _package(name)
            if a != b and b != "mabench":  # `from mabench import __version__, defaults` names leaves
                edges.setdefault(a, set()).add(b)
    assert _cycles(edges) == []


def test_no_import_cycle_between_modules():
    mods = _modules()
    edges: dict[str, set[str]] = {}
    for mod, path in mods.items():
        for name in _imports(path, top_level_only=True):
            # `from mabench.x import y`: y may be a module or a name in x; keep the module it is
            target = name if name in mods else name.rsplit(".", 1)[0]
            # a submodule naming its own package (`from mabench.video import x` in mabench.video.y) is how
            # packages work, not a cycle
            if target in mods and target != mod and not mod.startswith(target + "."):
                edges.setdefault(mod, set()).add(target)
    assert _cycles(edges) == []


def test_a_cycle_is_found_when_there_is_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_module_imports_in_a_fresh_interpreter():
    env = {**os.environ, "PYTHONPATH": str(SRC.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def load(mod: str) -> tuple[str, int, str]:
        r = subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True, text=True, env=env,
                           timeout=120)
        return mod, r.returncode, r.stderr.strip().splitlines()[-1] if r.returncode else ""

    with ThreadPoolExecutor(4) as pool:
        failed = [x for x in pool.map(load, sorted(_modules())) if x[1]]
    assert failed == []


def test_every_python_m_route_works():
    env = {**os.environ, "PYTHONPATH": str(SRC.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    routes = [(["mabench", "--version"], "mabench "), (["mabench.cli", "build", "--help"], "labelled clips"),
              (["mabench.cli", "train", "--help"], "LoRA"), (["mabench.synth", "--help"], "--placeholder"),
              (["mabench.train", "--help"], "LoRA"), (["mabench.testing.openai_server", "--help"], "--port")]
    mains = {str(p.parent.relative_to(SRC.parent)).replace(os.sep, ".") for p in SRC.rglob("__main__.py")}
    assert mains <= {r[0][0] for r in routes}  # a new __main__ gets a line here

    def run(route):
        args, expect = route
        r = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, env=env, timeout=120)
        return args, r.returncode == 0 and expect in r.stdout, r.stdout[-300:] + r.stderr[-300:]

    with ThreadPoolExecutor(3) as pool:
        bad = [x for x in pool.map(run, routes) if not x[1]]
    assert bad == []


def test_help_has_no_placeholders():
    """Flags show no `<bool>`, the usage line names a required argument plainly (typer 0.2x wrote `{BENCH}`),
    every option of `mabench demo` has help, and the lmms-eval hint is the README's command."""
    import subprocess
    import sys

    def helptext(*cmd: str) -> str:
        r = subprocess.run([sys.executable, "-m", "mabench.cli", *cmd, "--help"], capture_output=True, text=True,
                           timeout=60, env={**__import__("os").environ, "COLUMNS": "160"})
        assert r.returncode == 0, r.stderr
        return r.stdout

    for cmd in (["eval"], ["judge"], ["report"], ["build"], ["demo"], ["score"]):
        out = helptext(*cmd)
        assert "<bool>" not in out and "{" not in out.split("\n", 3)[1], (cmd, out[:400])
    assert "eval [OPTIONS] BENCH" in helptext("eval") and "report [OPTIONS] RUN..." in helptext("report")
    demo = helptext("demo")
    assert "Seed of the synthetic clips" in demo
