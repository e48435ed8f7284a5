"""Helpers for tests, benchmarks and dry runs (a small OpenAI-compatible server)."""
