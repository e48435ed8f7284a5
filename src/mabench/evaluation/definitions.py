"""Short definitions of the MA-52 labels and MA-Bench's body-part / side conventions, for the
`definitions` prompt strategy.

Written for mabench in its own words from the label names and coarse classes (`codes.csv`); they
say what distinguishes a label from its neighbours, not how annotators worked.
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
    "shaking body": "the torso sways or rocks back and forth or side to side, repeatedly",
    "turning around": "the torso rotates so the person faces away to one side",
    "sitting straightly": "the person straightens the back and settles upright",
    "shrugging": "both shoulders lift and drop again",
    "rising up": "the body lifts off or up from the seat",
    "nodding": "the head goes down and comes back up, once or a few times",
    "shaking head": "the head turns left and right alternately",
    "turning head": "the head rotates to one side and stays or returns once",
    "tilting head": "the head leans sideways toward a shoulder",
    "bowing head": "the head lowers and stays down",
    "head up": "the head lifts so the face points higher",
    "illustrative gestures": "hands move in the air to accompany speech",
    "other finger movements": "fingers move on their own (tapping, fiddling) with no other label fitting",
    "hands touching fingers": "one hand holds or rubs the fingers of the other",
    "stretching arms": "the arms extend outward or upward to stretch",
    "waving": "a raised hand swings side to side",
    "scratching arms": "a hand scratches or rubs the other arm",
    "spreading hands": "the hands open apart, palms showing",
    "playing objects": "the hands handle or fiddle with an object",
    "putting hands together": "the two hands join or clasp",
    "retracting arms": "the arms pull back toward the body",
    "pointing oneself": "a hand or finger points at the person's own chest",
    "clenching fist": "a hand closes tightly into a fist",
    "rubbing hands": "the palms rub against each other",
    "tiptoe": "the heels lift so the person rests on the toes",
    "retracting feet": "the feet draw back toward or under the seat",
    "shaking legs": "a leg bounces or jiggles repeatedly",
    "stretching feet": "the feet or legs push forward to extend",
    "closing legs": "the knees or legs come together",
    "spread legs": "the knees or legs move apart",
    "curling legs": "the legs fold up, knees bent toward the body",
    "crossing legs": "one leg is placed over the other",
    "scratching or touching chest": "a hand scratches or rests on the chest",
    "scratching or touching neck": "a hand scratches or rests on the neck",
    "scratching or touching back": "a hand reaches behind to the back",
    "arms akimbo": "hands on the hips with elbows pointing out",
    "crossing arms": "the arms fold across the chest",
    "scratching or touching shoulder": "a hand scratches or rests on a shoulder",
    "touching nose": "a hand or finger touches the nose",
    "scratching or touching face": "a hand scratches or rests on the cheek, chin or face",
    "playing or tidying hair": "a hand runs through, twists or arranges the hair",
    "scratching or touching hindbrain": "a hand goes to the back of the head",
    "pushing glasses": "a finger pushes spectacles back up the nose",
    "rubbing eyes": "a hand or knuckle rubs one or both eyes",
    "scratching or touching forehead": "a hand scratches or rests on the forehead",
    "touching ears": "a hand touches or pulls an ear",
    "covering mouth": "a hand is held over the mouth",
    "covering face": "one or both hands cover most of the face",
    "touching legs": "a hand rests on or strokes a thigh or knee",
    "patting legs": "a hand taps a leg repeatedly",
    "scratching legs": "a hand scratches a leg",
    "scratching feet": "a hand reaches down and scratches a foot or ankle",
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
