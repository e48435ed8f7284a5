"""The MA-Bench / MA-52 taxonomy: the single source of truth.

Everything that names a label, a body part, a phase, a task or a tier imports it from here.
Nothing else in the package re-types these lists.

Side convention: a part's name ("left hand") is the subject's own side, as pose estimators label
it; a direction ("leftward") is as seen in the image.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

# --------------------------------------------------------------------------------------------
# Labels: 7 coarse (body-level) classes, 52 fine (action-level) labels, lower-case as MA-52 writes
# them. Order inside a class follows the MA-52 list in DESIGN.md (not the code order); the order of
# FINE_LABELS is MA-52's label index (label_name.txt, the lists' `<clip> <index>`).
# --------------------------------------------------------------------------------------------

COARSE_FINE: dict[str, tuple[str, ...]] = {
    "Body": ("shaking body", "sitting straightly", "shrugging", "turning around", "rising up"),
    "Head": ("bowing head", "head up", "tilting head", "turning head", "nodding", "shaking head"),
    "Upper limb": (
        "scratching arms", "playing objects", "putting hands together", "rubbing hands",
        "pointing oneself", "clenching fist", "stretching arms", "retracting arms", "waving",
        "spreading hands", "hands touching fingers", "other finger movements",
        "illustrative gestures",
    ),
    "Lower limb": (
        "shaking legs", "curling legs", "spread legs", "closing legs", "crossing legs",
        "stretching feet", "retracting feet", "tiptoe",
    ),
    "Body-hand": (
        "scratching or touching neck", "scratching or touching chest",
        "scratching or touching back", "scratching or touching shoulder", "arms akimbo",
        "crossing arms",
    ),
    "Head-hand": (
        "playing or tidying hair", "scratching or touching hindbrain",
        "scratching or touching forehead", "scratching or touching face", "rubbing eyes",
        "touching nose", "touching ears", "covering face", "covering mouth", "pushing glasses",
    ),
    "Leg-hand": ("patting legs", "touching legs", "scratching legs", "scratching feet"),
}

COARSE_CLASSES: tuple[str, ...] = tuple(COARSE_FINE)
FINE_LABELS: tuple[str, ...] = tuple(f for fines in COARSE_FINE.values() for f in fines)
FINE_TO_COARSE: dict[str, str] = {f: c for c, fines in COARSE_FINE.items() for f in fines}

# MA-52 code letter of each coarse class (A1..A5 are Body labels, ...).
COARSE_CODE: dict[str, str] = dict(zip(COARSE_CLASSES, "ABCDEFG", strict=True))

# The MA-52 code of every fine label (A1..G4, from the MA-52 annotation manual). The code order
# within a class is NOT the list order above (which is mmaction2's label index order).
FINE_CODES: dict[str, str] = {
    "A1": "shaking body", "A2": "turning around", "A3": "sitting straightly", "A4": "shrugging",
    "A5": "rising up",
    "B1": "nodding", "B2": "shaking head", "B3": "turning head", "B4": "tilting head",
    "B5": "bowing head", "B6": "head up",
    "C1": "illustrative gestures", "C2": "other finger movements", "C3": "hands touching fingers",
    "C4": "stretching arms", "C5": "waving", "C6": "scratching arms", "C7": "spreading hands",
    "C8": "playing objects", "C9": "putting hands together", "C10": "retracting arms",
    "C11": "pointing oneself", "C12": "clenching fist", "C13": "rubbing hands",
    "D1": "tiptoe", "D2": "retracting feet", "D3": "shaking legs", "D4": "stretching feet",
    "D5": "closing legs", "D6": "spread legs", "D7": "curling legs", "D8": "crossing legs",
    "E1": "scratching or touching chest", "E2": "scratching or touching neck",
    "E3": "scratching or touching back", "E4": "arms akimbo", "E5": "crossing arms",
    "E6": "scratching or touching shoulder",
    "F1": "touching nose", "F2": "scratching or touching face", "F3": "playing or tidying hair",
    "F4": "scratching or touching hindbrain", "F5": "pushing glasses", "F6": "rubbing eyes",
    "F7": "scratching or touching forehead", "F8": "touching ears", "F9": "covering mouth",
    "F10": "covering face",
    "G1": "touching legs", "G2": "patting legs", "G3": "scratching legs", "G4": "scratching feet",
}
FINE_TO_CODE: dict[str, str] = {f: c for c, f in FINE_CODES.items()}


def fine_from_code(code: str) -> str | None:
    """The fine label of an MA-52 code ("b1" -> "nodding"), or None when it is not a code."""
    return FINE_CODES.get(code.strip().upper())


def display_label(label: str) -> str:
    """How the benchmark prints a label in options: first letter upper-case ("Head up")."""
    return label[:1].upper() + label[1:]


# --------------------------------------------------------------------------------------------
# Label matching: case- and punctuation-insensitive, accepts "Illustrative gestures - C1".
# --------------------------------------------------------------------------------------------

_CODE_SUFFIX = re.compile(r"\s*[-–—:(\[]\s*[A-G]\d{1,2}\s*[)\]]?\s*$", re.IGNORECASE)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize_label(text: str) -> str:
    """Canonical comparison key: NFKC, lower-case, code suffix removed, punctuation -> space."""
    text = unicodedata.normalize("NFKC", text).strip()
    text = _CODE_SUFFIX.sub("", text)
    return _NON_WORD.sub(" ", text.lower()).strip()


@lru_cache(maxsize=1)
def _fine_index() -> dict[str, str]:
    return {normalize_label(f): f for f in FINE_LABELS}


@lru_cache(maxsize=1)
def _coarse_index() -> dict[str, str]:
    return {normalize_label(c): c for c in COARSE_CLASSES}


def match_fine(text: str) -> str | None:
    """The canonical fine label that `text` names, or None. `"Nodding - B1"` -> `"nodding"`."""
    return _fine_index().get(normalize_label(text))


def match_coarse(text: str) -> str | None:
    """The canonical coarse class that `text` names, or None. `"head hand"` -> `"Head-hand"`."""
    return _coarse_index().get(normalize_label(text))


# --------------------------------------------------------------------------------------------
# Body parts and phases used by the relational questions.
# --------------------------------------------------------------------------------------------

SIDES: tuple[str, ...] = ("left", "right")
LIMB_SEGMENTS: tuple[str, ...] = (
    "upper arm", "lower arm", "hand", "upper leg", "lower leg", "foot",
)
BODY_PARTS: tuple[str, ...] = ("head", "torso") + tuple(
    f"{side} {seg}" for seg in LIMB_SEGMENTS for side in SIDES
)
PHASES: tuple[str, ...] = ("early", "middle", "late")
# The words questions use for each phase, the canonical one first; "initial / middle / final" is a series of
# its own ("the initial phase" reads with "the final phase", not with "the late phase").
PHASE_SYNONYMS: dict[str, tuple[str, ...]] = {"early": ("early", "initial", "beginning"), "middle": ("middle", "mid"),
                                              "late": ("late", "final")}
PHASE_OF_WORD: dict[str, str] = {w: ph for ph, words in PHASE_SYNONYMS.items() for w in words}
INITIAL_FINAL: dict[str, str] = {"early": "initial", "middle": "middle", "late": "final"}


# --------------------------------------------------------------------------------------------
# Tasks and tiers.
# --------------------------------------------------------------------------------------------


class AnswerType(str, Enum):
    LETTER_7 = "letter_A-G"
    LETTER_5 = "letter_A-E"
    YES_NO = "yes_no"
    FREE_TEXT = "free_text"


TIERS: tuple[str, ...] = (
    "Perceptual recognition",
    "Relational comprehension",
    "Interpretive reasoning",
)


@dataclass(frozen=True)
class TaskSpec:
    code: str
    name: str
    tier: str
    answer_type: AnswerType
    per_clip: int

    @property
    def closed(self) -> bool:
        return self.answer_type is not AnswerType.FREE_TEXT

    @property
    def letters(self) -> tuple[str, ...]:
        if self.answer_type is AnswerType.LETTER_7:
            return tuple("ABCDEFG")
        if self.answer_type is AnswerType.LETTER_5:
            return tuple("ABCDE")
        return ()

    @property
    def choices(self) -> tuple[str, ...]:
        """Every valid closed answer (letters or Yes/No); empty for free text."""
        if self.answer_type is AnswerType.YES_NO:
            return ("Yes", "No")
        return self.letters

    @property
    def chance(self) -> float | None:
        """Accuracy of a uniform random guess, as a fraction."""
        return 1 / len(self.choices) if self.closed else None


TASKS: dict[str, TaskSpec] = {
    t.code: t
    for t in (
        TaskSpec("CMAR", "Coarse-grained micro-action recognition", TIERS[0], AnswerType.LETTER_7, 1),
        TaskSpec("FMAR", "Fine-grained micro-action recognition", TIERS[0], AnswerType.LETTER_5, 1),
        TaskSpec("SAD", "Single-part action direction", TIERS[1], AnswerType.YES_NO, 2),
        TaskSpec("MAD", "Multi-part action direction", TIERS[1], AnswerType.YES_NO, 2),
        TaskSpec("MAS", "Micro-action sequence", TIERS[1], AnswerType.YES_NO, 2),
        TaskSpec("PPR", "Part-part relation", TIERS[1], AnswerType.YES_NO, 2),
        TaskSpec("MADU", "Micro-action description understanding", TIERS[2], AnswerType.FREE_TEXT, 1),
        TaskSpec("MARE", "Micro-action reasoning", TIERS[2], AnswerType.FREE_TEXT, 1),
    )
}
TASK_ORDER: tuple[str, ...] = tuple(TASKS)  # the paper's column order
CLOSED_TASKS: tuple[str, ...] = tuple(c for c, t in TASKS.items() if t.closed)
OPEN_TASKS: tuple[str, ...] = tuple(c for c, t in TASKS.items() if not t.closed)
QUESTIONS_PER_CLIP: int = sum(t.per_clip for t in TASKS.values())  # 12

# Older releases used other task codes.
OLD_TASK_CODES: dict[str, str] = {
    "CMAC": "CMAR",
    "FMAC": "FMAR",
    "AS": "MAS",
    "VCC-LS": "MADU",
    "LRC-LS": "MARE",
}


def canonical_task(code: str) -> str | None:
    """The current task code for `code` (old codes mapped), or None when unknown."""
    code = code.strip().upper()
    if code in TASKS:
        return code
    return OLD_TASK_CODES.get(code)


def parse_task_codes(value: str | Iterable[str] | None, what: str = "--tasks") -> list[str] | None:
    """Task codes from "CMAR,SAD" or ["cmar", "SAD"] (old codes mapped); None for none given. Raises
    ValueError naming the unknown code, as `mabench eval --tasks` says it."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    if not items or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{what}: no task code given; expected some of {','.join(TASK_ORDER)}")
    out = []
    for t in items:
        code = canonical_task(t) if isinstance(t, str) else None
        if code is None:
            raise ValueError(f"{what}: unknown task {str(t).strip()!r}; expected some of {','.join(TASK_ORDER)}")
        out.append(code)
    return out


# Open-ended rubric dimensions, each an integer 0-5 from the judge.
OPEN_DIMENSIONS: dict[str, dict[str, str]] = {
    "MADU": {
        "L1": "behavioural semantics (dominant part, action type, lead-follow, trend)",
        "L2": "spatial fidelity (left/right, up/down, near/far, midline, path)",
        "L3": "temporal structure (phases, order, rhythm)",
    },
    "MARE": {
        "L1": "coarse label correctness",
        "L2": "fine label correctness",
        "L3": "causal reasoning quality (evidence -> exclusion of a near neighbour -> label)",
    },
}
JUDGE_SCALE_MAX: int = 5
# Open dimension means (0-5) enter the 0-100 final score multiplied by this.
OPEN_TO_PERCENT: float = 100 / JUDGE_SCALE_MAX

# MARE reference answers end with this line; used by parsers and caption builders alike.
MARE_LABEL_LINE = "[Body part (coarse-grained)] {coarse} | [Micro-action (fine-grained)] {fine}"
