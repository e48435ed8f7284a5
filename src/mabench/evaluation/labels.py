"""Deterministic label metrics for MARE: read the coarse and fine label a text concludes with.

First the reference-style line `[Body part (coarse-grained)] Head | [Micro-action (fine-grained)]
Nodding`; failing that, the label names in the last lines of the text. A phrase names a label when
it contains every word of that label (after light normalisation: "nodding head" -> nodding, "the
head is tilting" -> tilting head); the label with the most words wins, and a tie between two
different labels is ambiguous: no label, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mabench.taxonomy import (
    COARSE_CLASSES,
    FINE_LABELS,
    FINE_TO_COARSE,
    normalize_label,
)

_COARSE_TAG = re.compile(r"\[\s*body\s*part[^\]]*\]\s*:?\s*(?P<v>[^|\]\[\n]+)", re.IGNORECASE)
_FINE_TAG = re.compile(r"\[\s*micro[\s-]*action[^\]]*\]\s*:?\s*(?P<v>[^|\]\[\n]+)", re.IGNORECASE)
_STOP = {"the", "a", "an", "his", "her", "their", "one", "s", "oneself's", "is", "are", "of", "with", "own",
         "action", "movement", "gesture", "label", "class", "category", "fine", "coarse", "grained", "level"}
# A few English forms that the token rule would not see as the same word.
_WORD_FORMS = {
    "nod": "nodding", "nods": "nodding", "shake": "shaking", "shakes": "shaking", "tilt": "tilting",
    "tilts": "tilting", "turn": "turning", "turns": "turning", "bow": "bowing", "bows": "bowing",
    "wave": "waving", "waves": "waving", "shrug": "shrugging", "shrugs": "shrugging", "rub": "rubbing",
    "rubs": "rubbing", "touch": "touching", "touches": "touching", "scratch": "scratching",
    "scratches": "scratching", "pat": "patting", "pats": "patting", "cross": "crossing", "crosses": "crossing",
    "crossed": "crossing", "leg": "legs", "arm": "arms", "hand": "hands", "ear": "ears", "eye": "eyes",
    "finger": "fingers", "foot": "feet", "object": "objects", "glass": "glasses", "toe": "tiptoe",
}


@dataclass(frozen=True)
class LabelPrediction:
    coarse: str | None
    fine: str | None
    how: str  # "label_line", "conclusion" or "none"


def _tokens(text: str) -> list[str]:
    return [_WORD_FORMS.get(t, t) for t in normalize_label(text).split() if t not in _STOP]


def _variants(label: str) -> list[str]:
    """ "scratching or touching face" is named by "touching face" and by "scratching face" too."""
    m = re.fullmatch(r"(\w+) or (\w+) (.+)", label)
    return [label, f"{m.group(1)} {m.group(3)}", f"{m.group(2)} {m.group(3)}"] if m else [label]


@lru_cache(maxsize=1)
def _label_tokens() -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((f, frozenset(_tokens(v))) for f in FINE_LABELS for v in _variants(f))


def match_fine_phrase(phrase: str) -> str | None:
    """The one fine label whose words all appear in `phrase` (most words wins; a tie is None)."""
    words = set(_tokens(phrase))
    hits = [(len(toks), f) for f, toks in _label_tokens() if toks and toks <= words]
    if not hits:
        return None
    # most words wins; two different labels with as many words are ambiguous
    best = max(n for n, _ in hits)
    top = {f for n, f in hits if n == best}
    return top.pop() if len(top) == 1 else None


def match_coarse_phrase(phrase: str) -> str | None:
    key = normalize_label(phrase)
    exact = [c for c in COARSE_CLASSES if normalize_label(c) == key]
    if exact:
        return exact[0]
    words = f" {key} "
    found = [c for c in COARSE_CLASSES if f" {normalize_label(c)} " in words]
    # "head hand" contains "head": keep only names not inside a longer found name
    found = [c for c in found if not any(c != o and normalize_label(c) in normalize_label(o) for o in found)]
    return found[0] if len(found) == 1 else None


def parse_mare_labels(text: str | None) -> LabelPrediction:
    if not text or not text.strip():
        return LabelPrediction(None, None, "none")
    coarse_m = list(_COARSE_TAG.finditer(text))
    fine_m = list(_FINE_TAG.finditer(text))
    if coarse_m or fine_m:
        coarse = match_coarse_phrase(coarse_m[-1].group("v")) if coarse_m else None
        fine = match_fine_phrase(fine_m[-1].group("v")) if fine_m else None
        if coarse is None and fine is not None:
            coarse = FINE_TO_COARSE[fine]
        return LabelPrediction(coarse, fine, "label_line")
    # no label line: the last non-empty line that names a label
    for line in reversed([ln for ln in text.strip().splitlines() if ln.strip()][-3:]):
        fine = _fine_in_sentence(line)
        coarse = _coarse_in_sentence(line)
        if fine or coarse:
            if coarse is None and fine is not None:
                coarse = FINE_TO_COARSE[fine]
            return LabelPrediction(coarse, fine, "conclusion")
    return LabelPrediction(None, None, "none")


def _fine_in_sentence(line: str) -> str | None:
    """Fine labels named as whole phrases in a sentence; exactly one distinct, else None."""
    hay = f" {' '.join(_tokens(line))} "
    spans = []
    for f in FINE_LABELS:
        for v in _variants(f):
            phrase = " ".join(_tokens(v))
            start = hay.find(f" {phrase} ")
            if phrase and start != -1:
                spans.append((start, start + len(phrase) + 2, f))
    # a name that sits inside a longer name found at the same place does not count on its own
    kept = {f for s, e, f in spans if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in spans)}
    return kept.pop() if len(kept) == 1 else None


def _coarse_in_sentence(line: str) -> str | None:
    m = re.search(r"coarse[^:]*:\s*([A-Za-z -]+)", line, re.IGNORECASE)
    return match_coarse_phrase(m.group(1)) if m else None

