"""Structured captions: a clip's measured motion + its labels -> a caption record and two texts.

The record keeps only facts the descriptors stated (nothing `unclear`). The texts are rendered
from it by deterministic templates (seeded per clip, several phrasings per sentence):

* MADU-style description: each moving part's movement with spatial and temporal structure;
* MARE-style reasoning chain: evidence -> exclusion of the nearest confusable label -> conclusion,
  ending with the MA-Bench label line.

`check_rewrite` is the fact check applied to an LLM rewrite of these texts: a rewrite that drops
a label, part, direction or phase, or brings in one the template did not state, is rejected.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field

from mabench.builder.cues import CONFUSABLE, CUES
from mabench.builder.narration import narrate
from mabench.motion.descriptors import CONTACT, visible_order
from mabench.motion.signals import CARRIED_BY_TRUNK, SIGNALS, settled
from mabench.taxonomy import FINE_TO_COARSE, MARE_LABEL_LINE, PHASES, display_label

CAPTION_VERSION = "ma-caption-v2"
MAX_PARTS = 4  # parts described per clip, by amplitude

# How directions read in text; the keys are the descriptor's labels.
# "leftward" reads both as "moves leftward" and "its leftward movement", as MA-Bench's questions use it.
DIR_WORDS = {"upward": "upward", "downward": "downward", "leftward": "leftward", "rightward": "rightward"}
DIRECTION_TERMS = ("upward", "downward", "to the left", "to the right", "leftward", "rightward")
OSC_WORDS = {"horizontal": "from side to side", "vertical": "up and down"}
COARSE_REGION = {
    "Body": "the torso, moving the body as a whole", "Head": "the head", "Upper limb": "the arms and hands",
    "Lower limb": "the legs and feet", "Body-hand": "a hand acting on the body",
    "Head-hand": "a hand acting on the head", "Leg-hand": "a hand acting on the legs",
}


@dataclass
class Movement:
    part: str
    phases: dict[str, str]          # phase -> direction phrase (only phases with a stated movement)
    rhythm: str
    onset: float | None
    amplitude: float
    position: dict[str, str] = field(default_factory=dict)


@dataclass
class Caption:
    clip: str
    fine: str
    coarse: str
    dominant: str | None
    ranking: list[str]
    movements: list[Movement]
    still: list[str]                # parts named as staying still
    order: list[tuple[str, str]]    # (first, then) pairs stated as "before"
    contacts: list[tuple[str, str, str | None]]  # (a, b, phase in which they approach)
    neighbour: str
    subject: str | None = None
    # orientation / posture signals that moved: {"name", "subject", "phases": {phase: phrase}, "rhythm"}
    signals: list[dict] = field(default_factory=list)
    madu: str = ""
    mare: str = ""
    rewrite: dict = field(default_factory=dict)  # per text: status of an LLM rewrite, if one was tried
    version: str = CAPTION_VERSION

    def to_json(self) -> dict:
        return asdict(self)


def direction_phrase(ph: dict) -> str | None:
    """'upward and to the right', 'from side to side', ... or None when nothing is stated."""
    words = []
    for axis in ("vertical", "horizontal"):
        lab = ph.get(axis)
        if lab in DIR_WORDS:
            words.append(DIR_WORDS[lab])
        elif lab == "back-and-forth":
            words.append(OSC_WORDS[axis])
    return " and ".join(words) if words else None


# How each orientation / posture signal reads: who moves, and the phrase for back-and-forth. The
# direction phrases are the signal's own words (`mabench.motion.signals.SIGNALS`: "tips downward").
SIGNAL_TEXT = {
    "head_pitch": ("head", "tips up and down"), "head_yaw": ("head", "turns from side to side"),
    "head_roll": ("head", "tilts from side to side"), "trunk_lean": ("trunk", "sways from side to side"),
    "trunk_length": ("trunk", "lengthens and shortens"),
    "hip_height": ("hips", "rise and sink"),
}
# Not in captions (kept in the descriptors): shoulder_raise is measured against the ears, so a head
# that lifts reads as shoulders that drop; shoulder_width has no image direction. Neither is checked
# on real clips yet.


def signal_facts(desc: dict) -> list[dict]:
    """The orientation / posture signals that moved, with their stated phases (nothing unclear)."""
    out = []
    signals = desc.get("signals", {})
    leaning = signals.get("trunk_lean", {}).get("state") == "moves"
    for name, sig in signals.items():
        if sig.get("state") != "moves" or name not in SIGNAL_TEXT:
            continue
        if leaning and name in CARRIED_BY_TRUNK:
            continue  # a leaning trunk carries the head with it: its turn or tilt is not the head's own
        who, osc = SIGNAL_TEXT[name]
        phases = {ph: (osc if lab == "back-and-forth" else lab) for ph in PHASES
                  if (lab := sig.get("phases", {}).get(ph)) not in (None, "none", "unclear")}
        if who.endswith("s"):  # "the hips rise", not "rises"
            phases = {ph: re.sub(r"^(\w+?)s\b", r"\1", d) for ph, d in phases.items()}
        if phases:
            out.append({"name": name, "subject": who, "phases": phases, "rhythm": sig.get("rhythm", "single")})
    named = {f["name"] for f in out}
    for e in desc.get("events", {}).get("events", []):
        # a head rotation the face points missed (a masked face) but the head's own flow saw
        kind = e["kind"]
        if e["part"] != "head" or kind not in SIGNAL_TEXT or kind in named or e.get("carried_by") \
                or e["confidence"] == "low" or e["direction"] not in ("leftward", "rightward", "upward", "downward"):
            continue
        spec = SIGNALS[kind]
        word = SIGNAL_TEXT[kind][1] if e["rhythm"] == "repeated" else \
            next(w for w in (spec.pos, spec.neg) if w.endswith(e["direction"]))
        out.append({"name": kind, "subject": "head", "phases": dict.fromkeys(e["phases"], word),
                    "rhythm": e["rhythm"]})
    return out


def caption_record(desc: dict, fine: str, subject: str | None = None) -> Caption:
    """The structured caption of one clip from its descriptor record and fine label."""
    parts = desc["parts"]
    ranking = list(desc.get("ranking", []))
    movements = []
    for part in ranking[:MAX_PARTS]:
        rec = parts[part]
        if rec.get("motion") == "rotation":
            continue  # a head that turns, nods or tilts has no path: the signals say how it rotates
        phases = {ph: p for ph in PHASES if (p := direction_phrase(rec["phases"][ph]))}
        if phases:
            movements.append(Movement(part, phases, rec.get("rhythm", "single"), rec.get("onset"), rec["amplitude"],
                                      rec.get("position", {})))
    described = {m.part for m in movements}
    still = [p for p in ("head", "torso") if p not in described and not parts[p]["moving"]
             and parts[p].get("visible", True) and settled(desc.get("signals", {}), p)]
    order = [(o["a"], o["b"]) if o["relation"] == "before" else (o["b"], o["a"])
             for o in desc.get("order", []) if visible_order(o) and {o["a"], o["b"]} <= described]
    contacts: list[tuple[str, str, str | None]] = []
    for name, pair in desc.get("pairs", {}).items():
        a, b = name.split("|")
        # a contact is an event only when the parts were apart at the start (hands resting together all
        # along do not "reach" each other)
        start, closest = pair.get("start_distance", float("inf")), pair.get("min_distance", 0.0)
        seen = parts[a].get("visible", True) and parts[b].get("visible", True)
        if seen and pair.get("contact") and (a in described or b in described) and start > CONTACT and \
                start - closest >= 0.5 * start:
            approach = next((ph for ph in PHASES if pair["phases"][ph]["trend"] == "approach"), None)
            if approach is not None:  # resting together all along is not an event worth a sentence
                contacts.append((a, b, approach))
    return Caption(clip=desc["clip"], fine=fine, coarse=FINE_TO_COARSE[fine], dominant=desc.get("dominant"),
                   ranking=ranking[:MAX_PARTS], movements=movements, still=still, order=order[:2],
                   contacts=contacts[:2], neighbour=CONFUSABLE[fine], subject=subject, signals=signal_facts(desc))


# ----------------------------------------------------------------------------------------------
# Texts
# ----------------------------------------------------------------------------------------------

_PHASE_SENT = (
    "In the {phase} phase, the {part} moves {dir}.",
    "During the {phase} phase the {part} moves {dir}.",
    "The {part} moves {dir} in the {phase} phase.",
    "In the {phase} part of the clip, the {part} travels {dir}.",
)
_LEAD = (
    "The {part} leads the movement.", "The movement is led by the {part}.",
    "The {part} moves the most.", "Most of the motion comes from the {part}.",
)
_ORDER = (
    "The {a} starts moving before the {b}.", "The {a} begins first and the {b} follows.",
    "The {b} starts only after the {a} has begun.",
)
_CONTACT = (
    "In the {phase} phase the {a} approaches the {b} and they come into contact.",
    "The {a} reaches the {b} during the {phase} phase.",
    "By the end of the {phase} phase, the {a} touches the {b}.",
)
_RHYTHM = {
    "repetitive": ("The {part}'s movement is repetitive.", "The {part} repeats its movement several times."),
    "continuous": ("The {part} moves continuously through the clip.", "The {part}'s movement is continuous."),
    "single": ("The {part} makes a single movement.", "The {part} moves once."),
}
_STILL = ("The {parts} {stay} still.", "The {parts} {remain} steady.")
_SIGNAL_SENT = ("The {who} {steps}{again}.", "Seen over the clip, the {who} {steps}{again}.")
_POSITION = ("It ends up at {height}{midline}.", "Its movement reaches {height}{midline}.")


def _position_text(pos: dict, rng: random.Random) -> str:
    if not pos:
        return ""
    midline = {"across the midline": ", across the body's midline"}.get(pos.get("midline", ""), "")
    return rng.choice(_POSITION).format(height=pos.get("height", "the same height"), midline=midline)


_LEAD_SENT = (
    "The movement is led by the {part}{where}.", "The dominant movement comes from the {part}{where}.",
    "Most of the motion is carried by the {part}{where}.",
)
_PATH = (
    "Its path goes {steps}{rhythm}.", "It moves {steps}{rhythm}.", "Over the clip it travels {steps}{rhythm}.",
)
_RHYTHM_TAIL = {"repetitive": ", repeating the stroke several times in a repetitive rhythm",
                "continuous": ", moving continuously", "single": ", as a single movement"}
RHYTHM_WORDS = {"repetitive": "repeated several times", "continuous": "continuous", "single": "a single stroke"}
MIDLINE_TEXT = {"own side": "on its own side of the body midline", "across the midline": "across the body midline",
                "at the midline": "near the body midline"}


def _steps(phases: dict[str, str]) -> str:
    items = [f"{d} in the {ph} phase" for ph, d in phases.items()]
    return items[0] if len(items) == 1 else ", then ".join(items[:-1]) + " and finally " + items[-1]


def render_madu(c: Caption, rng: random.Random) -> str:
    """Dominant part first (where it is: midline side, height), then its path and rhythm, the other parts,
    the lead-follow order and contacts; only measured facts."""
    out = []
    lead = next((m for m in c.movements if m.part == c.dominant), c.movements[0] if c.movements else None)
    if lead is not None:
        pos = lead.position or {}
        where = ""
        if pos:
            where = f", {MIDLINE_TEXT.get(pos.get('midline', ''), 'near the body midline')} at {pos.get('height')}"
        out.append(rng.choice(_LEAD_SENT).format(part=lead.part, where=where))
        out.append(rng.choice(_PATH).format(steps=_steps(lead.phases), rhythm=_RHYTHM_TAIL[lead.rhythm]))
        seen = list(lead.phases)
    if lead is not None and len(c.movements) < 3:  # a short description says when, too
        out.append(f"Its movement is seen in the {seen[0]} phase" if len(seen) == 1 else
                   f"Its movement runs from the {seen[0]} phase to the {seen[-1]} phase")
        out[-1] += f" of the clip, the {lead.part} being the part that moves the most." if c.dominant == lead.part \
            else " of the clip."
    others = [m for m in c.movements if m is not lead]
    if others:
        out.append("The " + " Meanwhile, the ".join(f"{m.part} moves {_steps(m.phases)}." for m in others[:2]))
    for a, b in c.order:
        out.append(rng.choice(_ORDER).format(a=a, b=b))
    for a, b, ph in c.contacts:
        out.append(rng.choice(_CONTACT).format(a=a, b=b, phase=ph))
    for sig in c.signals[:3]:
        steps = ", then ".join(f"{d} in the {ph} phase" for ph, d in sig["phases"].items())
        again = " and repeats it" if sig["rhythm"] == "repeated" else ""
        out.append(rng.choice(_SIGNAL_SENT).format(who=sig["subject"], steps=steps, again=again))
    if c.still:
        many = len(c.still) > 1
        out.append(rng.choice(_STILL).format(parts=" and ".join(c.still), stay="stay" if many else "stays",
                                             remain="remain" if many else "remains"))
    if not c.movements and not c.signals:
        out.append("No body part moves clearly; the movement is too small to describe by part.")
    return _capitalise(" ".join(out))


def _capitalise(text: str) -> str:
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


# The body regions whose movement is evidence for each coarse class (part names contain these words).
COARSE_EVIDENCE = {
    "Body": ("torso", "head"), "Head": ("head",), "Upper limb": ("hand", "arm"), "Lower limb": ("leg", "foot"),
    "Body-hand": ("hand", "torso"), "Head-hand": ("hand", "head"), "Leg-hand": ("hand", "leg"),
}


def render_mare(c: Caption, rng: random.Random) -> str:
    """Evidence -> exclusion of the nearest confusable label -> conclusion, then the label line."""
    ev = []
    words = COARSE_EVIDENCE[c.coarse]
    # evidence first from the parts the class is about, then the rest (a secondary movement may be larger)
    relevant = sorted(c.movements, key=lambda m: not any(w in m.part for w in words))
    for m in relevant[:2]:
        steps = ", then ".join(f"{d} in the {ph} phase" for ph, d in m.phases.items())
        ev.append(f"the {m.part} moves {steps}" + (" repeatedly" if m.rhythm == "repetitive" else ""))
    for sig in c.signals[:2]:
        steps = ", then ".join(f"{d} in the {ph} phase" for ph, d in sig["phases"].items())
        ev.append(f"the {sig['subject']} {steps}" + (" repeatedly" if sig["rhythm"] == "repeated" else ""))
    for a, b, ph in c.contacts[:1]:
        ev.append(f"the {a} comes into contact with the {b} in the {ph} phase")
    evidence = "; ".join(ev) if ev else "the visible movement is small and localised"
    seen = ev[0] if ev else evidence
    opener = rng.choice(("In the video, ", "Looking at the clip, ", "From the observed motion, "))
    region = COARSE_REGION[c.coarse]
    measured = {m.part for m in c.movements} | {"head" if s["subject"] == "head" else "torso" for s in c.signals}
    if any(w in p for p in measured for w in words):
        coarse_s = rng.choice((
            f"The movement is carried by {region}, which places it in the {c.coarse} category.",
            f"Since {region} {'carry' if ' and ' in region else 'carries'} the movement, the coarse category is "
            f"{c.coarse}.",
        ))
    else:  # the measurement does not show the labelled region moving: say so rather than claim it
        coarse_s = (f"The measured movement does not single out {region}; the coarse category given for the clip "
                    f"is {c.coarse}.")
    # the exclusion contrasts what the neighbour would look like with what was measured; the label's own
    # cue is never stated as seen (the measurement may not show it)
    exclusion = rng.choice((
        f"It is not {c.neighbour}: that would show {CUES[c.neighbour]}, while here {seen}.",
        f"{display_label(c.neighbour)} can be ruled out, since it would show {CUES[c.neighbour]}; "
        f"what the clip shows is that {seen}.",
        f"A close alternative is {c.neighbour}, but that would mean {CUES[c.neighbour]}, "
        f"which is not what was measured: {seen}.",
    ))
    timing = ""
    if c.movements:
        m = c.movements[0]
        first = next(iter(m.phases))
        timing = f" The {m.part}'s movement starts in the {first} phase and is {RHYTHM_WORDS[m.rhythm]}."
    conclusion = rng.choice((f"Therefore the micro-action is {c.fine}.", f"Taken together, the action is {c.fine}."))
    line = MARE_LABEL_LINE.format(coarse=c.coarse, fine=display_label(c.fine))
    return f"{opener}{evidence}.{timing} {coarse_s} {exclusion} {conclusion} {line}"


def caption(desc: dict, fine: str, seed: int = 0, subject: str | None = None) -> Caption:
    """Caption record and both texts; the same clip and seed give the same text."""
    c = caption_record(desc, fine, subject)
    rng = random.Random(f"{seed}:{c.clip}")
    told = narrate(desc, fine, rng)  # from the clip's movement events, where the descriptors have them
    c.madu, c.mare = told if told is not None else (render_madu(c, rng), render_mare(c, rng))
    return c


# ----------------------------------------------------------------------------------------------
# Fact check for LLM rewrites
# ----------------------------------------------------------------------------------------------

def _terms(text: str) -> dict[str, set[str]]:
    # the label line and coarse class names ("Head-hand") name labels, not moving parts
    low = re.sub(r"\[body part.*", "", text.lower())
    low = re.sub(r"\b(head|body|leg)-hand\b", " ", low)
    sides = set(re.findall(r"\b(left|right) (upper arm|lower arm|hand|upper leg|lower leg|foot)\b", low))
    return {
        "parts": {f"{s} {p}" for s, p in sides} | {p for p in ("head", "torso") if re.search(rf"\b{p}\b", low)},
        "directions": {d for d in DIRECTION_TERMS if d in low} | ({"side to side"} if "side to side" in low else set())
        | ({"up and down"} if "up and down" in low else set()),
        "phases": {p for p in PHASES if re.search(rf"\b{p}\b", low)},
        # the seconds of a span and the count of strokes ("from about 0.1 to 0.9 s", "5 strokes")
        "numbers": set(re.findall(r"\d+(?:\.\d+)?", low)),
    }


def _claims(text: str) -> set[tuple[frozenset, frozenset]]:
    """(parts, directions) named together in one sentence or clause: a rewrite that swaps two directions
    keeps the same words but not the same claims."""
    out = set()
    for clause in re.split(r"[.;:]\s+|,\s+then\s+", re.sub(r"\[body part.*", "", text.lower())):
        t = _terms(clause)
        if t["parts"] and t["directions"]:
            out.add((frozenset(t["parts"]), frozenset(t["directions"])))
    return out


def check_rewrite(template: str, rewrite: str, c: Caption) -> str | None:
    """None when `rewrite` keeps every fact of `template` and adds none; else the reason it fails."""
    if not rewrite.strip():
        return "empty rewrite"
    want, got = _terms(template), _terms(rewrite)
    for kind in ("parts", "directions", "phases", "numbers"):
        missing, added = want[kind] - got[kind], got[kind] - want[kind]
        if missing:
            return f"drops {kind}: {', '.join(sorted(missing))}"
        if added:
            return f"adds {kind} the template does not state: {', '.join(sorted(added))}"
    lost = _claims(template) - _claims(rewrite)
    if lost and len(_claims(rewrite)) <= len(_claims(template)):
        parts, dirs = next(iter(sorted(lost, key=str)))
        return f"changes a claim: {', '.join(sorted(parts))} {'/'.join(sorted(dirs))}"
    # the label line is checked on its own below; here the reasoning's own words
    low, tlow = (re.sub(r"\[body part.*", "", t.lower()) for t in (rewrite, template))
    for label in (c.fine, c.coarse.lower()):
        if label in tlow and label not in low:
            return f"drops the label {label!r}"
    line = MARE_LABEL_LINE.format(coarse=c.coarse, fine=display_label(c.fine))
    if line in template and line not in rewrite:
        return "drops the MARE label line"
    return None
