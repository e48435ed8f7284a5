"""Synthetic clips with exact ground truth (tests, benchmarks, the demo)."""

from mabench.synth.simple import write_box_clip

__all__ = ["write_box_clip"]
