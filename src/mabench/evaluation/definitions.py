"""Short definitions of the MA-52 labels and MA-Bench's body-part / side conventions, for the
`definitions` prompt strategy.

Written for mabench in its own words from the MA-52 annotation manual's table of descriptions
(`shared/data/ma52/annotation_manual.pdf`) and `codes.csv`: what tells a label from its neighbours,
short enough that all 52 fit in a system prompt.
"""

from __future__ import annotations

from mabench.taxonomy import FINE_LABELS

COARSE: dict[str, str] = {
    "Body": "the trunk moves as a whole (the torso shifts, turns, rises or shakes)",
    "Head": "the head moves by itself, without a hand touching it",
    "Upper limb": "arms, hands or fingers move without touching the body, head or legs",
    "Lower limb": "legs or feet move without the hands touching them",
    "Body-hand": "a hand reaches or rests on the torso, neck, back or shoulder",
    "Head-hand": "a hand reaches or rests on the head or face",
    "Leg-hand": "a hand reaches or rests on a leg or foot",
}

FINE: dict[str, str] = {
    "shaking body": "the upper body sways from one side to the other",
    "turning around": "the body rotates so the direction it faces changes",
    "sitting straightly": "the back is being straightened (the motion, not just sitting upright)",
    "shrugging": "only the shoulders move, lifting or rocking back and forth",
    "rising up": "the lead-in to standing up from the seat",
    "nodding": "the head goes down and up repeatedly",
    "shaking head": "the head turns left and right repeatedly",
    "turning head": "the head turns sideways or backward, usually once",
    # MA-52's manual gives these two the other way round from everyday use; its wording is followed
    "tilting head": "the head is lowered, slowly or quickly, usually once",
    "bowing head": "the head leans toward a shoulder (a lean, not a turn)",
    "head up": "the head is raised, slowly or quickly, usually once",
    "illustrative gestures": "one arm or the other gestures in the air, as when explaining",
    "other finger movements": "fingers move in a way no other upper-limb label covers",
    "hands touching fingers": "the fingers of the two hands go from apart to interlaced",
    "stretching arms": "an arm is raised or extended forward or to the side",
    "waving": "a hand or arm waves, sometimes with the head shaking",
    "scratching arms": "one hand scratches the other arm",
    "spreading hands": "a hand is held open with the palm up",
    "playing objects": "the hands handle or adjust an object they hold",
    "putting hands together": "the two hands come together until the palms meet",
    "retracting arms": "an arm reaches out and is drawn back",
    "pointing oneself": "a hand points, referring to the person themself",
    "clenching fist": "the fingers curl into a fist, fully or partly",
    "rubbing hands": "the hands touch and rub against each other",
    "tiptoe": "the heel is raised with the toes on the ground, or the foot is set on its side",
    "retracting feet": "a foot is pulled back toward the body (both feet ending on tiptoe count as tiptoe)",
    "shaking legs": "a leg jiggles up and down, on and on or briefly",
    "stretching feet": "a foot reaches forward or sideways, often as the body leans or turns",
    "closing legs": "the legs go from apart to together",
    "spread legs": "the knees move further apart",
    "curling legs": "seated, one leg is folded up over the other",
    "crossing legs": "the legs move into, or between, crossed positions",
    "scratching or touching chest": "a hand reaches and touches the front of the upper body",
    "scratching or touching neck": "a hand reaches and touches the neck",
    "scratching or touching back": "a hand reaches and touches the back of the upper body",
    "arms akimbo": "one or both hands are placed on the hips",
    "crossing arms": "the arms fold over the chest",
    "scratching or touching shoulder": "a hand reaches toward or touches a shoulder",
    "touching nose": "a hand reaches and touches the nose",
    "scratching or touching face": "a hand touches the cheek (not the nose, forehead or chin)",
    "playing or tidying hair": "a hand adjusts the hair at the side or top of the head, long hair included",
    "scratching or touching hindbrain": "a hand touches the back of the head or the hair there",
    "pushing glasses": "a hand reaches and touches the glasses",
    "rubbing eyes": "a hand reaches and touches around the eyes",
    "scratching or touching forehead": "a hand scratches or touches the forehead",
    "touching ears": "a hand reaches an ear, touching or rubbing it",
    "covering mouth": "a hand covers the mouth",
    "covering face": "one or both hands cover the face, other than just the mouth",
    "touching legs": "one hand touches and rubs a leg",
    "patting legs": "a hand moves to a leg and taps it",
    "scratching legs": "a hand scratches the calf (not the ankle)",
    "scratching feet": "a hand scratches the foot (not the leg)",
}

CONVENTIONS = (
    "Conventions: 'left' and 'right' body parts are the person's own sides (the person's right hand "
    "appears on the image's left when they face the camera). Movement directions (upward, leftward, ...) "
    "are as seen in the image. The clip is split in three equal phases: early, middle, late. A part "
    "'moves' when it visibly changes position; small jitter is not movement."
)


def label_block(fine: bool) -> str:
    """The label set with one line each: the coarse classes, or the fine labels under their class."""
    if not fine:
        return "Coarse classes:\n" + "\n".join(f"- {c}: {d}" for c, d in COARSE.items())
    return "Fine labels:\n" + "\n".join(f"- {name}: {FINE[name]}" for name in FINE_LABELS)
