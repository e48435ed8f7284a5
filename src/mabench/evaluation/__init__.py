"""Prompts, answer extraction, the runner, the judge and the metrics."""
