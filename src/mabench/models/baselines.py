"""Baselines as backends: `random` (seeded) and `prior` (most frequent answer per task)."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from pathlib import Path
from typing import Any

from mabench.data.io import load_benchmark
from mabench.models.base import Request, Response
from mabench.taxonomy import TASKS


class RandomBackend:
    """Uniform over the valid closed answers; seeded per (seed, qid), so order does not matter."""

    needs_frames = False
    video_mode = "none"

    def __init__(self, seed: int = 0):
        self.name = "random"
        self.seed = seed

    async def probe(self) -> None:
        return None

    async def generate(self, req: Request) -> Response:
        if not req.choices:
            return Response("")  # open tasks: no answer, scores 0
        h = hashlib.sha256(f"{self.seed}:{req.qid}".encode()).digest()
        return Response(random.Random(h).choice(req.choices))

    async def aclose(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"backend": "random", "seed": self.seed}


class PriorBackend:
    """The most frequent answer of each task in a key file (ties: the first in choice order)."""

    needs_frames = False
    video_mode = "none"

    def __init__(self, key: str | Path):
        self.name = "prior"
        self.key = str(key)
        bench = load_benchmark(key)
        counts: dict[str, Counter] = {}
        for q in bench:
            if q.answer is not None and q.spec.closed:
                counts.setdefault(q.task, Counter())[q.answer] += 1
        if not counts:
            raise ValueError(f"{key}: has no answers; the prior baseline needs a key with answers")
        self.prior = {
            t: _most_frequent(TASKS[t].choices, c) for t, c in counts.items()
        }

    async def probe(self) -> None:
        return None

    async def generate(self, req: Request) -> Response:
        return Response(self.prior.get(req.task, ""))

    async def aclose(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"backend": "prior", "key": self.key, "prior": self.prior}


def _most_frequent(choices: tuple[str, ...], counts: Counter) -> str:
    """The most frequent answer; ties go to the earlier choice."""
    return max(choices, key=lambda a: (counts[a], -choices.index(a)))
