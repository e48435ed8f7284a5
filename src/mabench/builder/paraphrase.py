"""Optional LLM paraphrase of the built Yes/No questions, through any OpenAI-compatible endpoint, fact-checked.

Templates, however many, keep a narrow vocabulary: a text classifier tells them from MA-Bench's free-form
questions (bench/RESULTS.md). A paraphrase widens it. Each SAD / MAD / MAS / PPR question goes out alone
(never its answer), optionally with a few questions of the same task and type from a reference benchmark
as examples of the manner to follow. The reply is untrusted: `check_paraphrase` must find the same parts
in the same order, the same directions (bound to the same parts), phases and time spans, and the same
relation words (order, simultaneity, same / opposite, toward / away, more / less, stillness, negation);
otherwise the template question is kept and the reason recorded in its `meta`. Replies are kept in
OUT/paraphrases.jsonl, so a rerun asks only for questions it has not seen.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mabench import defaults
from mabench.audit.slots import slot
from mabench.audit.style import question_type
from mabench.models import make_backend
from mabench.models.base import GenerationConfig, Request
from mabench.models.retry import RetryPolicy, ask_with_retries
from mabench.taxonomy import PHASE_OF_WORD

PARAPHRASE_TASKS = ("SAD", "MAD", "MAS", "PPR")
# `--paraphrase reference`: no model, the reference benchmark's own phrasings (`mabench.builder.phrasings`)
REFERENCE = "reference"
N_EXAMPLES = 3
PARAPHRASE_SYSTEM = (
    "You are a question rephraser for a video benchmark about small body movements. Rephrase the yes/no "
    "question so that it reads naturally and differently, and keep its meaning exactly: the same body parts "
    "in the same order, every side (left/right), direction, phase and time span, and the same relation "
    "(before/after, at the same time, same or opposite direction, toward or away, more or less, still). "
    "Add nothing, drop nothing, and do not answer it. If examples are given, follow their manner, never "
    "their content. Reply with the one rephrased question only."
)

# Canonical forms, so that "to the left" and "leftward", "initial" and "early" count as the same fact.
_DIRECTION = {"to the left": "leftward", "to the right": "rightward", "left": "leftward", "right": "rightward",
              "leftwards": "leftward", "rightwards": "rightward", "upwards": "upward", "up": "upward",
              "downwards": "downward", "down": "downward", "forwards": "forward", "backwards": "backward"}
# The check reads the slotted text (`mabench.audit.slots`: parts, directions, phases and time spans taken
# out). Phrases first, so that "same time" and "same distance" are not both "same".
_PHRASES = (("at the same time", " SIMUL "), ("same time", " SIMUL "), ("at once", " SIMUL "),
            ("same distance", " STAY "), ("same direction", " SAME "), ("each other", " RECIPROCAL "),
            ("one another", " RECIPROCAL "), ("back and forth", " REPEAT "), ("to and fro", " REPEAT "),
            ("side to side", " REPEAT "), ("rather than", " NEG "), ("no longer", " NEG "))
# Words whose exact use carries the answer: each must appear as often in the paraphrase as in the template
# (order, axis, degree and quantity: "before" is not "first", "noticeably" is not "slightly").
EXACT_WORDS = frozenset("""before after first earlier later then already until since prior preceding following
afterward afterwards once twice again only even just yet horizontal vertical horizontally vertically noticeably
noticeable clearly clear visibly visible slightly slight mainly mostly predominantly primarily largely overall
entire entirely whole throughout any every all each both either always ever half most least lag lags lagged
behind trail trails trailed ahead lead leads led sooner soon perspective viewpoint viewed straighten straightens
straightened chin nose forehead crown top face shoulder shoulders ear ears eye eyes gaze""".split())
# Words whose class carries the answer: each class must be used as often in the paraphrase as in the template
# (a reply may trade "begin" for "start", never "start" for "stop" or "larger" for "limited").
WORD_CLASSES: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in {
    "start": "start starts started starting begin begins began begun initiate initiates initiated onset",
    "stop": "stop stops stopped end ends ended ending finish finishes finished cease ceases ceased halt halts "
            "halted complete completes completed",
    "stay": "STAY remain remains remained stay stays stayed keep keeps kept steady still stationary unchanged "
            "constant rest resting rests fixed motionless idle immobile frozen hold holds held holding",
    "change": "displaced displace displaces leave leaves change changes changed changing depart departs deviate",
    "more": "more greater larger bigger wider broader stronger higher exceed exceeds exceeded",
    "less": "less smaller fewer narrower weaker lower limited reduced minor lesser",
    "toward": "toward towards approach approaches approached approaching closer nearer near nearing converge "
              "converges",
    "away": "away apart farther further separate separates separated separating recede recedes diverge diverges",
    "same": "SAME same similar parallel identical matching likewise",
    "opposite": "opposite opposing contrary reverse reversed counter",
    "simultaneous": "SIMUL while simultaneously simultaneous meanwhile concurrently together",
    "reciprocal": "RECIPROCAL",
    "negation": "NEG not no never neither nor without none inactive fail fails failed lack lacks lacking instead "
                "unlike except absent nothing n't",
    "occur": "occur occurs occurred happen happens happened",  # a whole movement, not its start
    # "is A apart from B" is a state, "does A move apart" a change; so is "does A appear / look tilted"
    "be": "is are was were be been being appear appears appeared look looks looked seem seems seemed",
    "midline": "midline center centre central",
    "repeat": "REPEAT repeatedly repeated repeat repeats oscillate oscillates oscillating swing swings swinging "
              "alternate alternates alternating return returns returned returning back shake shakes shaking shook",
    "compare": "than compared comparison relative",
    # a turn, a tilt, a nod and a lean are different movements, and none is a shift of place ("move")
    "turn": "turn turns turned turning rotate rotates rotated rotating rotation swivel swivels swiveled swivelled "
            "swiveling twist twists twisted twisting",
    "tilt": "tilt tilts tilted tilting incline inclines inclined cock cocks cocked roll rolls rolled rolling",
    "pitch": "tip tips tipped tipping nod nods nodded nodding bow bows bowed bowing",
    "lean": "lean leans leaned leaning sway sways swayed swaying bend bends bent bending",
}.items()}
# Words that relate what is around them: each must keep its place among the parts and directions (how many
# come before it). "Did A start before B?" and "Before A started, did B?" share every word and the part
# order; only the place of "before" tells them apart. Likewise "A larger than B" and "compared to A, B
# larger", and "did A move up before it moved down?" and "did A, before it moved down, move up?".
ANCHOR_WORDS = frozenset("""before after than compared comparison relative while when until since earlier later
prior preceding following ahead behind""".split())
# A direction in the subject's own frame ("to its left", "to the subject's right") is the mirror image of the
# image direction every question uses; one named as a start ("from the left", "off the right", "out of a
# leftward lean") is the opposite of a destination. Either marks the direction as another one.
FRAME_WORDS = frozenset("its his her their own subject subjects person persons body".split())
SOURCE_WORDS = frozenset("from off out".split())
_FILLER = frozenset("the a an s of".split())
# An anchor pointing back at a clause ("..., and before that, did B ...?") reverses what it relates.
BACK_REFERENCES = frozenset("that this which then".split())
# Word classes that keep their place among the parts: whose start it is ("did A start moving before B
# moved" is not "did A move before B started").
PLACED_CLASSES = ("start", "stop", "occur")
_TOKEN = re.compile(r"n't|[a-z]+|[A-Z]+|\{\w+\}")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def spec_error(spec: str, reference: str | None = None, base_url: str | None = None) -> str | None:
    """Why `--paraphrase SPEC` cannot run with this reference file and endpoint (None: it can), in one line
    that says what to do: openai:NAME needs an endpoint, `reference` a reference benchmark."""
    kind, _, name = spec.partition(":")
    if spec == REFERENCE:
        return None if reference else ("--paraphrase reference asks in a reference benchmark's phrasings: "
                                       "add --reference FILE (or --stems-from FILE)")
    if kind != "openai" or not name:
        return f"--paraphrase {spec}: expected openai:NAME (any OpenAI-compatible endpoint) or {REFERENCE}"
    return None if base_url else f"--paraphrase {spec} needs --base-url (an OpenAI-compatible endpoint)"


def _canon_dir(d: str) -> str:
    return _DIRECTION.get(d, d)


@lru_cache(maxsize=1 << 14)  # a build checks each template against many candidate wordings; read once
def _read(text: str) -> tuple[list, Counter, Counter, Counter, dict[str, list[str]]]:
    """(the ordered parts and directions: compound directions as one sorted tuple; exact words; word classes;
    anchor words and placed classes with their place; the slot values) of a question."""
    sl = slot(text)
    low = " " + sl.text.replace("’", "'") + " "
    for phrase, token in _PHRASES:
        low = low.replace(f" {phrase} ", f" {token} ")
    values = {k: list(v) for k, v in sl.values.items()}
    seq: list = []
    anchors: Counter = Counter()
    prev = None
    toks = _TOKEN.findall(low)
    for i, tok in enumerate(toks):
        if tok in ANCHOR_WORDS:
            anchors[tok, len(seq)] += 1
            if i + 1 < len(toks) and toks[i + 1] in BACK_REFERENCES:
                anchors[f"{tok} {toks[i + 1]}", len(seq)] += 1
        parts_seen = sum(k == "part" for k, _ in seq)
        anchors.update((c, parts_seen) for c in PLACED_CLASSES if tok in WORD_CLASSES[c])
        if tok in ("{part}", "{dir}"):
            kind = tok[1:-1]
            v = values[kind].pop(0) if values.get(kind) else "?"
            if kind == "dir":
                v = _canon_dir(v)
                before = [t for t in toks[max(0, i - 4):i] if t not in _FILLER][-2:]
                if FRAME_WORDS & set(before):
                    v = "own " + v
                elif SOURCE_WORDS & set(before):
                    v = "from " + v
                if prev in ("dir", "and"):  # "and" counts only right after a direction
                    seq[-1] = ("dir", tuple(sorted((*seq[-1][1], v))))  # "upward and to the left": one direction
                    prev = "dir"
                    continue
                seq.append(("dir", (v,)))
            else:
                seq.append(("part", v))
            prev = kind
        elif tok == "and" and prev == "dir":
            prev = "and"
        else:
            prev = None
    exact = Counter(t for t in toks if t in EXACT_WORDS)
    classes = Counter(c for t in toks for c, ws in WORD_CLASSES.items() if t in ws)
    return seq, exact, classes, anchors, sl.values


def _show(seq: list) -> str:
    return " ".join(v if k == "part" else "+".join(v) for k, v in seq)


def check_paraphrase(template: str, text: str) -> str | None:
    """None when `text` asks what `template` asks (see the module docstring); else the reason it fails.
    Deliberately strict: a rejected paraphrase costs only the template's wording, an accepted wrong one a
    wrong answer."""
    t = text.strip()
    if not t:
        return "empty"
    if "\n" in t or t.count("?") != 1 or not t.endswith("?"):
        return "not one question ending with '?'"
    if len(t) > 2 * len(template) + 40:
        return "too long"
    (sw, ew, cw, aw, vw), (sg, eg, cg, ag, vg) = _read(template), _read(t)
    if sw != sg:
        return f"changes which part moves which way: {_show(sw)} -> {_show(sg)}"
    for kind in ("phase", "label", "class"):
        a, b = (sorted(PHASE_OF_WORD.get(x, x) for x in v.get(kind, [])) for v in (vw, vg))
        if a != b:
            return f"changes {kind}s: {', '.join(a) or '-'} -> {', '.join(b) or '-'}"
    times = [sorted(n for x in v.get("time", []) for n in _NUMBER.findall(x)) for v in (vw, vg)]
    if times[0] != times[1]:
        return f"changes times: {', '.join(times[0]) or '-'} -> {', '.join(times[1]) or '-'}"
    if ew != eg:
        diff = sorted((ew - eg) + (eg - ew))
        return f"changes the words {', '.join(diff)}"
    if cw != cg:
        diff = sorted(set((cw - cg) + (cg - cw)))
        return f"changes the relation ({', '.join(diff)})"
    if aw != ag:
        diff = sorted({w for w, _ in (aw - ag) + (ag - aw)})
        return f"changes which parts {', '.join(repr(w) for w in diff)} applies to"
    return None


def task_and_question(record) -> tuple[str, str]:
    """A reference record's task and question text: a `Question` or a record dict of the official format."""
    return (record["task"], record["question"]) if isinstance(record, dict) else (record.task, record.question)


def reference_examples(records) -> dict[tuple[str, str], list[str]]:
    """(task, question type) -> a reference benchmark's questions of that task and type (style examples)."""
    out: dict[tuple[str, str], list[str]] = {}
    for r in records:
        task, q = task_and_question(r)
        if task in PARAPHRASE_TASKS:
            out.setdefault((task, question_type(slot(q).text)), []).append(q.strip())
    return out


@dataclass
class ParaphraseResult:
    accepted: int = 0
    rejected: int = 0
    failed: int = 0
    reused: int = 0


def _prompt(rec: dict, examples: dict[tuple[str, str], list[str]], seed: int) -> str:
    pool = examples.get((rec["task"], question_type(slot(rec["question"]).text)), [])
    rng = random.Random(f"{seed}:{rec['question']}")
    shown = rng.sample(pool, min(N_EXAMPLES, len(pool)))
    lines = ["EXAMPLES (other clips; follow their manner, not their content):", *[f"- {e}" for e in shown], ""] \
        if shown else []
    return "\n".join([*lines, f"QUESTION:\n{rec['question']}"])


def _load_cache(path: Path, spec: str) -> dict[tuple[str, str], dict]:
    """The replies `spec`'s model gave before, by (task, template); a line cut by a crash or written by
    another model does not count (asked again)."""
    cache: dict[tuple[str, str], dict] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
                ok = e["model"] == spec and e["status"] in ("accepted", "rejected", "failed") and \
                    isinstance(e["template"], str) and (e["status"] != "accepted" or isinstance(e["text"], str))
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
            if ok:
                cache[(e["task"], e["template"])] = e
    return cache


def _apply(rec: dict, entry: dict) -> str:
    meta = rec.setdefault("meta", {})
    if entry["status"] == "accepted":
        meta["paraphrase"] = {"status": "accepted", "template": rec["question"]}
        rec["question"] = entry["text"]
    else:
        meta["paraphrase"] = {"status": entry["status"], "reason": entry.get("reason", "")}
    return entry["status"]


async def _paraphrase_all(records: list[dict], spec: str, base_url: str | None, api_key_env: str,
                          examples: dict[tuple[str, str], list[str]], cache_path: Path, seed: int,
                          concurrency: int) -> ParaphraseResult:
    kind, _, name = spec.partition(":")
    if kind != "openai" or not name:
        raise ValueError(f"--paraphrase {spec}: expected openai:NAME ({REFERENCE}: `mabench.builder.phrasings`)")
    cache = _load_cache(cache_path, spec)
    res = ParaphraseResult()
    todo = []
    for rec in records:
        if rec["task"] not in PARAPHRASE_TASKS:
            continue
        hit = cache.get((rec["task"], rec["question"]))
        if hit is not None and hit["status"] != "failed":
            if hit["status"] == "accepted":  # checked again: a stricter check applies to old replies too
                reason = check_paraphrase(rec["question"], hit["text"])
                hit = hit if reason is None else {**hit, "status": "rejected", "reason": reason}
            _apply(rec, hit)
            res.reused += 1
        else:
            todo.append(rec)
    if not todo:
        return res
    backend = make_backend(f"blind:{name}", base_url=base_url, api_key_env=api_key_env)  # text only
    try:
        await backend.probe()
    except BaseException:
        await backend.aclose()
        raise
    policy = RetryPolicy(max_retries=3)
    sem = asyncio.Semaphore(concurrency)
    lock = asyncio.Lock()
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cut = cache_path.exists() and cache_path.stat().st_size > 0 and not cache_path.read_bytes().endswith(b"\n")
    out = cache_path.open("a", encoding="utf-8")
    if cut:  # a line cut by a crash: the next entry starts on its own line
        out.write("\n")

    async def one(rec: dict) -> None:
        template = rec["question"]
        req = Request(qid=f"paraphrase:{rec['qid']}", task=rec["task"], system_prompt=PARAPHRASE_SYSTEM,
                      question=_prompt(rec, examples, seed), gen=GenerationConfig(temperature=0.7, max_tokens=256))
        async with sem:
            resp, err, _ = await ask_with_retries(backend, req, policy)
        if resp is None:
            entry = {"model": spec, "task": rec["task"], "template": template, "status": "failed", "reason": err}
        else:
            reason = check_paraphrase(template, resp.text)
            entry = {"model": spec, "task": rec["task"], "template": template, "text": resp.text.strip(),
                     "status": "accepted" if reason is None else "rejected", **({"reason": reason} if reason else {})}
        status = _apply(rec, entry)
        setattr(res, status, getattr(res, status) + 1)
        async with lock:  # one line per reply, flushed: a crash loses only what is in flight
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            out.flush()

    try:
        await asyncio.gather(*(one(r) for r in todo))
    finally:
        out.close()
        await backend.aclose()
    return res


def paraphrase_questions(records: list[dict], spec: str, base_url: str | None = None,
                         api_key_env: str = defaults.API_KEY_ENV, reference=None,
                         cache_path: str | Path = "paraphrases.jsonl", seed: int = 0,
                         concurrency: int = defaults.REWRITE_CONCURRENCY) -> ParaphraseResult:
    """Paraphrase the SAD / MAD / MAS / PPR questions of `records` in place where the paraphrase passes
    `check_paraphrase`; `reference`: benchmark records whose questions of the same task and type are shown
    as examples of the manner to follow."""
    examples = reference_examples(reference) if reference is not None else {}
    return asyncio.run(_paraphrase_all(records, spec, base_url, api_key_env, examples, Path(cache_path), seed,
                                       concurrency))

