"""From a model's free-form output to a closed answer, recording how it was found.

Model output is untrusted text. The rules, in order:

1. `<think>...</think>` blocks are removed (an unclosed `<think>` removes everything after it;
   a stray `</think>` keeps only what follows it). For closed tasks markdown emphasis is dropped;
   an open answer (MADU, MARE) is otherwise kept verbatim for the judge and the submission.
2. Every *asserted* answer in the text is collected: "Answer: B", "the answer is (B)", "Option B",
   a leading "B." / "(B)" / "B)", a bare "B" ("so it is B."), "Yes, the hand ...", a sentence that is just "No.".
   Two different asserted answers make the output ambiguous: `invalid`, never a guess.
   A *negated* answer is not asserted: "Not B.", "It isn't D.", "(B) is wrong", "definitely not
   yes" name an option only to rule it out. An output that only rules options out is `invalid`
   ("negated: not B"); one that asserts and rules out the same answer is `invalid` too.
3. With no asserted letter, an option's label text ("Nodding") selects that option when exactly one
   option's text is named.

The method tag says which rule fired: `exact`, `pattern:answer_is`, `pattern:leading`,
`pattern:bracketed`, `pattern:bare`, `option_text`, prefixed with `think_stripped+` when a
think block was removed (plain `think_stripped` when what remained was exact), or `invalid` with a
reason. An invalid answer counts as wrong; the denominator is always every question of the task.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mabench.data.records import Option
from mabench.taxonomy import TASKS, AnswerType, normalize_label

INVALID = "invalid"


@dataclass(frozen=True)
class Extraction:
    answer: str | None  # "B", "Yes", free text for open tasks; None when invalid
    method: str
    reason: str | None = None  # why invalid

    @property
    def valid(self) -> bool:
        return self.answer is not None


def invalid(reason: str) -> Extraction:
    return Extraction(None, INVALID, reason)


# --- cleaning -----------------------------------------------------------------------------------

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|`+|~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE)
_ANSWER_TAG = re.compile(r"</?answer>", re.IGNORECASE)


def strip_think(text: str) -> tuple[str, bool]:
    """Remove reasoning blocks. Returns (remaining text, whether anything was removed)."""
    out = _THINK_BLOCK.sub(" ", text)
    close = list(_THINK_CLOSE.finditer(out))
    if close:  # "...reasoning</think> B": the template opened the block for the model
        out = out[close[-1].end():]
    m = _THINK_OPEN.search(out)
    if m:  # unclosed: the model ran out of tokens while thinking
        out = out[: m.start()]
    return out, out != text


def clean(text: str) -> str:
    text = _ANSWER_TAG.sub(" ", text)
    text = _HEADING.sub("", text)
    text = _EMPHASIS.sub("", text)
    return text.strip()


# --- letters ------------------------------------------------------------------------------------

_L = r"([A-G])"
# The whole output is one letter, maybe wrapped: "B", "(B)", "[B]", "B.", "B)".
_EXACT_LETTER = re.compile(r"^\s*[(\[{]?\s*([A-Ga-g])\s*[)\]}]?\s*[.:!]?\s*$")
_ANSWER_IS_LETTER = re.compile(
    r"(?:answer|option|choice|select|choose|pick|opt\s+for)\w*"
    r"(?:\s+(?:is|would\s+be|should\s+be|will\s+be|=|:))?\s*[:=]?\s*[(\[]?\s*"
    + _L + r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_LEADING_LETTER = re.compile(r"^\s*[(\[]?\s*" + _L + r"(?![\w'])(?!\.[A-Za-z])(?!\s+[a-z])")
_BRACKETED_LETTER = re.compile(r"[(\[]\s*" + _L + r"\s*[)\]]")
# A standalone capital letter that does not start a sentence in prose ("A person nods" is not A;
# "A B", "so it is B.", "A, B" are letters). "E.g." is not a letter either.
_JOINERS = r"(?:or|and|nor|vs|versus|then|not|but|is|was|seems|looks|fits|matches|answer|option|choice|yes|no)\b"
_BARE_LETTER = re.compile(
    r"(?<![\w'’])" + _L + r"(?![\w'’])(?!\.[A-Za-z])(?!\s+(?!" + _JOINERS + r")[a-z])"
)


# --- negation -----------------------------------------------------------------------------------

# Words right before an answer that rule it out: "not B", "isn't D", "never A", "rather than C",
# "instead of B", "except A", optionally with "the answer / option / a" in between.
_NEGATED_BEFORE = re.compile(
    r"(?:\bnot|n[’']t|\bnever|\brather\s+than|\binstead\s+of|\bexcept|\bexcluding|\bruling\s+out|"
    r"\brule\s+out|\beliminate)"
    r"\s*:?\s*(?:(?:the|a|an|answer|option|choice|letter|definitely|really|quite|simply|exactly)\s+)*"
    r"[\"'“(\[]?\s*$", re.IGNORECASE)
# ... and right after a letter, with a verb: "(B) is wrong", "B is not correct", "B is ruled out" (not
# "B, not the case for A", where the words after the comma are about something else). Yes / No are not
# checked after: "No, not true." answers No.
_NEGATED_AFTER = re.compile(
    r"^\s*[)\]\"'”]?\s*(?:is|was|seems|looks|would\s+be|can\s+be|must\s+be|should\s+be|are)\s+"
    r"(?:(?:definitely|clearly|also)\s+)?(?:wrong|incorrect|false|excluded|ruled\s+out|eliminated|"
    r"not\s+(?:correct|right|it|the\s+(?:answer|case)|true|the\s+right))\b", re.IGNORECASE)


def _negated(text: str, start: int, end: int, after: bool = True) -> bool:
    """True when the answer at text[start:end] is named to be ruled out (`after`: also by the words
    that follow it)."""
    return bool(_NEGATED_BEFORE.search(text[max(0, start - 40):start])
                or (after and _NEGATED_AFTER.match(text[end:end + 40])))


def _split_negated(found: list[tuple[str, str, int, int]], text: str, norm=lambda v: v,
                   after: bool = True) -> tuple[list[tuple[str, str]], set[str]]:
    """(asserted (answer, pattern) pairs, answers only named to be ruled out). An answer ruled out and
    then asserted later ("not B... wait, it is B. Answer: B") is asserted: the last word counts; one
    asserted and then ruled out is both (contradictory)."""
    asserted: list[tuple[str, str, int]] = []
    negated: dict[str, int] = {}
    for value, how, s, e in found:
        if _negated(text, s, e, after):
            negated[norm(value)] = max(s, negated.get(norm(value), -1))
        else:
            asserted.append((value, how, s))
    last_asserted: dict[str, int] = {}
    for value, _, s in asserted:
        last_asserted[norm(value)] = max(s, last_asserted.get(norm(value), -1))
    still_negated = {v for v, pos in negated.items() if last_asserted.get(v, -1) < pos}
    return [(v, how) for v, how, _ in asserted], still_negated


def _negation_verdict(asserted: set[str], negated: set[str], shown) -> Extraction | None:
    """`invalid` when an answer is asserted and ruled out after, or only ruled-out answers are named."""
    both = asserted & negated
    if both:
        return invalid(f"contradictory: {', '.join(sorted(map(shown, both)))} asserted and ruled out")
    if not asserted and negated:
        return invalid("negated: " + ", ".join(f"not {shown(v)}" for v in sorted(negated)))
    return None


def _letter_candidates(text: str, letters: tuple[str, ...]) -> tuple[list[tuple[str, str]], set[str]]:
    """(letter, pattern) pairs for every asserted letter, strongest pattern first, and the letters
    only named to be ruled out ("not B")."""
    found: list[tuple[str, str, int, int]] = []
    for m in _ANSWER_IS_LETTER.finditer(text):
        letter = m.group(1)
        # a lower-case letter only counts inside brackets or alone: "the answer is a nod" is not A
        if letter.islower():
            tail = text[m.end(1): m.end(1) + 2]
            if not re.match(r"^\s*(?:[).\]]|$)", tail):
                continue
        found.append((letter.upper(), "pattern:answer_is", m.start(1), m.end(1)))
    lead = _LEADING_LETTER.match(text)
    if lead:
        found.append((lead.group(1), "pattern:leading", lead.start(1), lead.end(1)))
    found += [(m.group(1), "pattern:bracketed", m.start(1), m.end(1)) for m in _BRACKETED_LETTER.finditer(text)]
    found += [(m.group(1), "pattern:bare", m.start(1), m.end(1)) for m in _BARE_LETTER.finditer(text)]
    asserted, negated = _split_negated([f for f in found if f[0] in letters], text)
    return asserted, negated


def _option_text_matches(text: str, options: tuple[Option, ...]) -> set[str]:
    """Letters whose option text is named as a whole phrase, ignoring names inside longer ones."""
    hay = f" {normalize_label(text)} "
    spans: list[tuple[int, int, str, str]] = []
    for opt in options:
        needle = normalize_label(opt.text)
        if not needle:
            continue
        start = 0
        while (i := hay.find(f" {needle} ", start)) != -1:
            if not _negated(hay, i + 1, i + 1 + len(needle)):  # "not nodding" rules nodding out
                spans.append((i + 1, i + 1 + len(needle), opt.letter, needle))
            start = i + 1
    keep = {
        (letter, needle)
        for s, e, letter, needle in spans
        if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _, _ in spans)
    }
    # two letters with the same label text (the official file has such FMAR questions): ambiguous
    return {letter for letter, _ in keep}


def _extract_letter(text: str, letters: tuple[str, ...], options: tuple[Option, ...]) -> Extraction:
    m = _EXACT_LETTER.match(text)
    if m:
        letter = m.group(1).upper()
        if letter in letters:
            return Extraction(letter, "exact")
        return invalid(f"letter {letter} is not an option")
    cands, negated = _letter_candidates(text, letters)
    distinct = {ltr for ltr, _ in cands}
    verdict = _negation_verdict(distinct, negated, str)
    if verdict is not None:
        return verdict
    if len(distinct) > 1:
        return invalid(f"ambiguous: letters {', '.join(sorted(distinct))} all asserted")
    if len(distinct) == 1:
        return Extraction(cands[0][0], cands[0][1])
    if options:
        named = _option_text_matches(text, options)
        if len(named) == 1:
            return Extraction(named.pop(), "option_text")
        if len(named) > 1:
            return invalid(f"ambiguous: names options {', '.join(sorted(named))}")
    return invalid(_no_answer_reason(text))


# --- yes / no -----------------------------------------------------------------------------------

_EXACT_YN = re.compile(r"^\s*[(\[]?\s*(yes|no)\s*[)\]]?\s*[.!]?\s*$", re.IGNORECASE)
_ANSWER_IS_YN = re.compile(
    r"answer\w*(?:\s+(?:is|would\s+be|should\s+be|will\s+be))?\s*[:=]?\s*[\"'“]?(yes|no)\b",
    re.IGNORECASE,
)
_LEADING_YN = re.compile(r"^\s*[\"'“]?(yes|no)\b", re.IGNORECASE)
# A sentence or line that starts with Yes/No: "... moves. No, it does not."
_SENTENCE_YN = re.compile(
    r"(?:[.!?;:\n]\s*|\s-\s)(yes|no)\b(?!\s+(?!" + _JOINERS + r")[a-z])", re.IGNORECASE
)
# Capitalised and standalone anywhere ("... or No"), unless it starts prose ("No movement").
_BARE_YN = re.compile(r"(?<![\w'’])(Yes|No|YES|NO)(?![\w'’])(?!\s+(?!" + _JOINERS + r")[a-z])")
_ANY_YN = re.compile(r"(?<![\w'’])(yes|no)(?![\w'’])", re.IGNORECASE)
_TRAILING_YN = re.compile(r"(?:^|[\s:])(yes|no)\s*[.!]?\s*$", re.IGNORECASE)


def _extract_yes_no(text: str) -> Extraction:
    m = _EXACT_YN.match(text)
    if m:
        return Extraction(m.group(1).capitalize(), "exact")
    spans: list[tuple[str, str, int, int]] = []
    spans += [(m.group(1), "pattern:answer_is", m.start(1), m.end(1)) for m in _ANSWER_IS_YN.finditer(text)]
    m = _LEADING_YN.match(text)
    if m:
        spans.append((m.group(1), "pattern:leading", m.start(1), m.end(1)))
    spans += [(m.group(1), "pattern:sentence", m.start(1), m.end(1)) for m in _SENTENCE_YN.finditer(text)]
    spans += [(m.group(1), "pattern:bare", m.start(1), m.end(1)) for m in _BARE_YN.finditer(text)]
    # "definitely not yes" is not caught above ("not" is a joiner, "yes" lower-case): look for it
    spans += [(m.group(1), "pattern:negated", m.start(1), m.end(1)) for m in _ANY_YN.finditer(text)
              if _negated(text, m.start(1), m.end(1), after=False)]
    m = _TRAILING_YN.search(text)
    if m:
        spans.append((m.group(1), "pattern:trailing", m.start(1), m.end(1)))
    found, negated = _split_negated(spans, text, str.lower, after=False)
    distinct = {v.lower() for v, _ in found}
    verdict = _negation_verdict(distinct, negated, str.capitalize)
    if verdict is not None:
        return verdict
    if len(distinct) > 1:
        return invalid("ambiguous: both Yes and No asserted")
    if distinct:
        return Extraction(found[0][0].capitalize(), found[0][1])
    return invalid(_no_answer_reason(text))


# --- refusals -----------------------------------------------------------------------------------

_REFUSAL = re.compile(
    r"\b(?:i\s*(?:am|'m)\s*(?:sorry|unable|not able)|i\s*can(?:no|')t|unable to (?:determine|"
    r"answer|see|view|tell)|cannot (?:determine|answer|see|view|tell)|as an ai|no video|"
    r"not possible to (?:determine|tell))",
    re.IGNORECASE,
)


def _no_answer_reason(text: str) -> str:
    if not text.strip():
        return "empty"
    if _REFUSAL.search(text):
        return "refusal"
    return "no answer found"


# --- entry point --------------------------------------------------------------------------------


def extract(output: str | None, task: str, options: tuple[Option, ...] = ()) -> Extraction:
    """Extract the answer to a question of `task` from raw model `output`.

    >>> extract("<think>the head dips twice</think> **Answer: (B)**", "CMAR").answer
    'B'
    >>> extract("Yes, the right hand rises.", "SAD").method
    'pattern:leading'
    """
    spec = TASKS[task]
    if output is None or not output.strip():
        return invalid("empty")
    body, stripped = strip_think(output)
    if not spec.closed:
        # verbatim but for the reasoning block: the judge (and the organisers, from the submission)
        # read what the model wrote, markdown included, as the official references use it too
        body = body.strip()
        if not body:
            return invalid("only reasoning, no answer" if stripped else "empty")
        return Extraction(body, "think_stripped" if stripped else "exact")
    body = clean(body)
    if not body:
        return invalid("only reasoning, no answer" if stripped else "empty")
    if spec.answer_type is AnswerType.YES_NO:
        result = _extract_yes_no(body)
    else:
        result = _extract_letter(body, spec.letters, options)
    if stripped and result.valid:
        method = "think_stripped" if result.method == "exact" else f"think_stripped+{result.method}"
        return Extraction(result.answer, method)
    return result
