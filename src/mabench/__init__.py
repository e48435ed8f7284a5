"""mabench: evaluate, build and report micro-action understanding benchmarks for MLLMs."""

__version__ = "0.1.0"
