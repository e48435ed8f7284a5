"""CMAR and FMAR options: the correct label among distractors, its letter cycling through the positions,
FMAR's distractors drawn from its class, its nearest confusable label and the other classes."""

from __future__ import annotations

import random

from mabench.builder.cues import CONFUSABLE
from mabench.taxonomy import COARSE_FINE, FINE_TO_COARSE, TASKS, display_label


def options(task: str, correct: str, others: list[str], slot: int, rng: random.Random) -> tuple[str, str]:
    others = rng.sample(others, len(others))
    order = others[:slot] + [correct] + others[slot:]
    letters = TASKS[task].letters
    return "\n".join(f"{letters[i]}. {display_label(o)}" for i, o in enumerate(order)), letters[slot]


# Same-class distractors per FMAR question (as many as the class has), and how often the nearest
# confusable label is among them: MA-Bench varies both (0-4 same-class, mostly 1-3; the confusable one in
# about a third).
SAME_CLASS_COUNTS = (0, 1, 1, 1, 2, 2, 2, 3, 3, 4)
CONFUSABLE_SHARE = 1 / 3


def _weighted_sample(pool: list[str], k: int, rng: random.Random, weights: dict[str, float] | None) -> list[str]:
    """`k` distinct labels of `pool`, each drawn in proportion to `weights` (uniformly without); with weights,
    a label of weight 0 (never an answer in this build) is never drawn, so fewer than `k` may come back."""
    pool, out = [x for x in pool if weights is None or weights.get(x, 0.0) > 0], []
    for _ in range(min(k, len(pool))):
        pick = rng.choices(pool, [weights[x] for x in pool] if weights else None)[0]
        out.append(pick)
        pool.remove(pick)
    return out


def fmar_distractors(fine: str, rng: random.Random, weights: dict[str, float] | None = None) -> list[str]:
    """4 distinct labels other than `fine`: a varying number from its coarse class, the nearest confusable
    label in about a third, the rest from other classes. With `weights` (how often each label is the answer
    in this build), distractors are drawn in that proportion (the confusable label too), and a label that is
    never the answer is not drawn unless the build has fewer than five answer labels (a text-only model
    learns to rule such a label out; on 600 synthetic clips of 34 labels they had been a quarter of all
    distractors)."""
    same = [f for f in COARSE_FINE[FINE_TO_COARSE[fine]] if f != fine]
    other = [f for f in FINE_TO_COARSE if FINE_TO_COARSE[f] != FINE_TO_COARSE[fine]]
    def against_answer(x: str) -> float:  # x's weight against the answer's, at most 1 (1 without weights)
        return 1.0 if weights is None else min(1.0, weights.get(x, 0.0) / max(weights.get(fine, 0.0), 1e-9))

    # the confusable label in about a third of the questions; with weights, as often as its own weight against
    # the answer's allows (a label seldom the answer, shown a third of the time, would be one to rule out)
    picks = [CONFUSABLE[fine]] if rng.random() < CONFUSABLE_SHARE * against_answer(CONFUSABLE[fine]) else []
    k = min(rng.choice(SAME_CLASS_COUNTS), len(same))
    rest_same = [f for f in same if f not in picks and f != CONFUSABLE[fine]]
    drawn = _weighted_sample(rest_same, max(0, min(k - sum(p in same for p in picks), 4 - len(picks))), rng, weights)
    # a small class holds few answer labels, and a rare one among them would be drawn whatever its weight: each
    # same-class pick stays as often as its weight against the answer's allows, the others come from other classes
    picks += [f for f in drawn if weights is None or rng.random() < against_answer(f)]
    rest = [f for f in other if f not in picks and f != CONFUSABLE[fine]]
    picks += _weighted_sample(rest, 4 - len(picks), rng, weights)
    # short still: any label that is an answer (weighted), then, in a build of fewer than five answer labels, any
    for w in (weights, None):
        if len(picks) < 4:
            picks += _weighted_sample([f for f in same + other if f not in picks], 4 - len(picks), rng, w)
    return picks


