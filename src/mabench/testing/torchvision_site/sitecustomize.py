"""Imported by every interpreter started with this folder on PYTHONPATH (vLLM starts several: the API
server, its engine core, a model-inspection subprocess). Just before torchvision is first imported it
defines the op schemas torchvision needs when its CUDA-built ops cannot load; see
`mabench.testing.vllm_cpu`. Costs nothing for interpreters that never import torchvision."""

import importlib.abc
import sys


class _BeforeTorchvision(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torchvision":
            sys.meta_path.remove(self)
            from mabench.testing.vllm_cpu import allow_torchvision_without_ops

            allow_torchvision_without_ops()
        return None  # the normal finders import it


sys.meta_path.insert(0, _BeforeTorchvision())
