"""Benchmark records, readers and writers, and the official submission format."""

from mabench.data.io import (
    Benchmark,
    BenchmarkError,
    atomic_write_text,
    file_sha256,
    load_benchmark,
    read_records,
    write_benchmark,
    write_json,
)
from mabench.data.records import (
    Option,
    Question,
    duplicate_labels,
    parse_options,
    strip_video_suffix,
)

__all__ = [
    "Benchmark", "BenchmarkError", "Option", "Question", "atomic_write_text", "duplicate_labels",
    "file_sha256",
    "load_benchmark", "parse_options", "read_records", "strip_video_suffix", "write_benchmark",
    "write_json",
]
