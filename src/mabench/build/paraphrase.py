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
from pathlib import Path

from mabench import defaults
from mabench.audit.slots import slot
from mabench.audit.style import question_type
from mabench.models import make_backend
from mabench.models.base import GenerationConfig, Request
from mabench.models.retry import RetryPolicy, ask_with_retries

PARAPHRASE_TASKS = ("SAD", "MAD", "MAS", "PPR")
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
_PHASE = {"beginning": "early", "initial": "early", "final": "late", "mid": "middle"}
# Words that carry a question's relation, by group; a paraphrase must use a group exactly when the
# template does (negations: as many).
RELATION_WORDS: dict[str, tuple[str, ...]] = {
    "before": ("before", "earlier", "first", "precede", "preceded", "precedes", "ahead", "prior"),
    "after": ("after", "later", "follow", "followed", "follows", "subsequently"),
    "simultaneous": ("while", "simultaneously", "simultaneous", "same time", "at once", "together", "meanwhile",
                     "as well", "concurrently"),
    "same": ("same direction", "similar direction", "in step", "parallel"),
    "opposite": ("opposite", "contrary", "reverse", "against each other"),
    "toward": ("toward", "towards", "approach", "approaches", "approaching", "closer", "nearer", "near"),
    "away": ("away", "apart", "farther", "further", "separate", "separates", "separating", "recede"),
    "more": ("more", "greater", "larger", "bigger", "wider"),
    "less": ("less", "smaller", "fewer", "narrower"),
    "still": ("still", "steady", "stationary", "unchanged", "constant", "remain", "remains", "stay", "stays",
              "keep", "keeps", "same distance", "resting", "position"),
    "midline": ("midline", "center", "centre"),
    "repeated": ("back and forth", "to and fro", "side to side", "repeatedly", "swing", "oscillate", "reverse"),
}
_NEGATION = re.compile(r"\b(not|never|no|neither|nor|without)\b|n't\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _words(text: str) -> str:
    return " " + re.sub(r"[^a-z' ]+", " ", text.lower().replace("’", "'")) + " "


def _relations(text: str) -> set[str]:
    low = _words(text)
    return {g for g, ws in RELATION_WORDS.items() if any(f" {w} " in low for w in ws)}


def _facts(text: str) -> dict[str, list[str]]:
    vals = slot(text).values
    return {"parts": vals.get("part", []),
            "directions": sorted(_DIRECTION.get(d, d) for d in vals.get("dir", [])),
            "phases": sorted(_PHASE.get(p, p) for p in vals.get("phase", [])),
            "labels": sorted(vals.get("label", []) + vals.get("class", [])),
            "times": sorted(n for t in vals.get("time", []) for n in _NUMBER.findall(t))}


# Where a question's clauses part: within a clause, a direction belongs to the parts of that clause.
_CLAUSE = re.compile(r"\b(?:before|after|while|when|whereas|than|compared (?:to|with))\b|[,;]")


def _bindings(text: str) -> Counter:
    """(parts, directions) per clause: "the head moved up while the hand moved down" and the same with up and
    down swapped name the same parts and directions, but not the same facts."""
    out: Counter = Counter()
    for clause in _CLAUSE.split(text.lower()):
        vals = slot(clause).values
        parts, dirs = vals.get("part", []), [_DIRECTION.get(d, d) for d in vals.get("dir", [])]
        if parts or dirs:
            out[(tuple(sorted(parts)), tuple(sorted(dirs)))] += 1
    return out


def check_paraphrase(template: str, text: str) -> str | None:
    """None when `text` asks what `template` asks (see the module docstring); else the reason it fails."""
    t = text.strip()
    if not t:
        return "empty"
    if "\n" in t or t.count("?") != 1 or not t.endswith("?"):
        return "not one question ending with '?'"
    if len(t) > 2 * len(template) + 40:
        return "too long"
    want, got = _facts(template), _facts(t)
    for kind in ("parts", "directions", "phases", "times", "labels"):
        if want[kind] != got[kind]:
            return f"changes {kind}: {', '.join(want[kind]) or '-'} -> {', '.join(got[kind]) or '-'}"
    if _bindings(template) != _bindings(t):
        return "changes which part moves which way"
    rw, rg = _relations(template), _relations(t)
    if rw != rg:
        lost, added = sorted(rw - rg), sorted(rg - rw)
        return "changes the relation" + (f" (drops {', '.join(lost)})" if lost else "") + \
            (f" (adds {', '.join(added)})" if added else "")
    if len(_NEGATION.findall(template.lower())) != len(_NEGATION.findall(t.lower())):
        return "changes a negation"
    return None


def reference_examples(records) -> dict[tuple[str, str], list[str]]:
    """(task, question type) -> a reference benchmark's questions of that task and type (style examples)."""
    out: dict[tuple[str, str], list[str]] = {}
    for r in records:
        task, q = (r["task"], r["question"]) if isinstance(r, dict) else (r.task, r.question)
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


def _load_cache(path: Path) -> dict[tuple[str, str], dict]:
    cache: dict[tuple[str, str], dict] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
                cache[(e["task"], e["template"])] = e
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line cut by a crash: asked again
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
        raise ValueError(f"--paraphrase {spec}: expected openai:NAME (any OpenAI-compatible endpoint)")
    cache = _load_cache(cache_path)
    res = ParaphraseResult()
    todo = []
    for rec in records:
        if rec["task"] not in PARAPHRASE_TASKS:
            continue
        hit = cache.get((rec["task"], rec["question"]))
        if hit is not None and hit["status"] != "failed":
            _apply(rec, hit)
            res.reused += 1
        else:
            todo.append(rec)
    if not todo:
        return res
    backend = make_backend(f"blind:{name}", base_url=base_url, api_key_env=api_key_env)  # text only
    await backend.probe()
    policy = RetryPolicy(max_retries=3)
    sem = asyncio.Semaphore(concurrency)
    lock = asyncio.Lock()
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    out = cache_path.open("a", encoding="utf-8")

    async def one(rec: dict) -> None:
        template = rec["question"]
        req = Request(qid=f"paraphrase:{rec['qid']}", task=rec["task"], system_prompt=PARAPHRASE_SYSTEM,
                      question=_prompt(rec, examples, seed), gen=GenerationConfig(temperature=0.7, max_tokens=256))
        async with sem:
            resp, err, _ = await ask_with_retries(backend, req, policy)
        if resp is None:
            entry = {"task": rec["task"], "template": template, "status": "failed", "reason": err}
        else:
            reason = check_paraphrase(template, resp.text)
            entry = {"task": rec["task"], "template": template, "text": resp.text.strip(),
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

