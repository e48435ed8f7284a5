"""What each fine label looks like, and its nearest confusable neighbour: the knowledge the reasoning
chains (MARE) and the FMAR distractors draw on.

`CUES[label]` completes "it would show ..."; `CONFUSABLE[label]` is the label most easily mistaken
for it (same body region, similar movement), used for the exclusion step of a reasoning chain and
as a hard FMAR distractor. Every one of the 52 labels has both (checked at import).
"""

from __future__ import annotations

from mabench.taxonomy import FINE_LABELS

CUES: dict[str, str] = {
    # Body
    "shaking body": "the whole upper body swaying from side to side several times",
    "sitting straightly": "the torso straightening from a lean into an upright posture",
    "shrugging": "both shoulders lifting and dropping back while the head stays put",
    "turning around": "the torso rotating so the body faces away from the camera",
    "rising up": "the whole body lifting upward from the seat",
    # Head
    "bowing head": "the head lowering and staying down",
    "head up": "the head lifting upward",
    "tilting head": "the head leaning sideways towards one shoulder",
    "turning head": "the head turning to one side and back",
    "nodding": "the head moving down and up repeatedly",
    "shaking head": "the head moving left and right repeatedly",
    # Upper limb
    "scratching arms": "one hand rubbing back and forth on the other arm",
    "playing objects": "the fingers handling a small object in the lap",
    "putting hands together": "both hands moving towards each other until they meet in front of the body",
    "rubbing hands": "the two hands pressed together and rubbing against each other",
    "pointing oneself": "a hand pointing back at the chest",
    "clenching fist": "the fingers curling into a closed fist with little arm movement",
    "stretching arms": "both arms extending outward and away from the body",
    "retracting arms": "extended arms pulling back in towards the body",
    "waving": "a raised hand swinging from side to side several times",
    "spreading hands": "the forearms opening outward with the palms apart",
    "hands touching fingers": "the fingertips of the two hands touching each other",
    "other finger movements": "small finger movements with the hand otherwise still",
    "illustrative gestures": "the hands moving in front of the body as if explaining something",
    # Lower limb
    "shaking legs": "one leg bouncing up and down rapidly and repeatedly",
    "curling legs": "the legs drawing back under the seat",
    "spread legs": "the knees moving apart, away from each other",
    "closing legs": "the knees moving together, towards each other",
    "crossing legs": "one leg lifting and crossing over the other",
    "stretching feet": "a lower leg extending forward and outward with the foot",
    "retracting feet": "the feet pulling back towards the seat",
    "tiptoe": "the heels lifting so the knees rise while the toes stay down",
    # Body-hand
    "scratching or touching neck": "a hand rising to the neck and staying there, often rubbing",
    "scratching or touching chest": "a hand moving to the chest and resting on it",
    "scratching or touching back": "a hand reaching behind the body to the back",
    "scratching or touching shoulder": "a hand reaching across to the opposite shoulder",
    "arms akimbo": "both hands moving to the hips with the elbows pointing outward",
    "crossing arms": "both forearms folding across the chest, each hand near the other elbow",
    # Head-hand
    "playing or tidying hair": "a hand moving to the top or side of the head and stroking the hair",
    "scratching or touching hindbrain": "a hand reaching to the back of the head",
    "scratching or touching forehead": "a hand rising to the forehead",
    "scratching or touching face": "a hand rising to the side of the face and rubbing it",
    "rubbing eyes": "a hand rising to the eyes and rubbing them repeatedly",
    "touching nose": "a hand rising to the middle of the face and stopping at the nose",
    "touching ears": "a hand rising to the side of the head at the ear",
    "covering face": "one or both hands covering most of the face",
    "covering mouth": "a hand rising to the lower face and covering the mouth",
    "pushing glasses": "a finger pushing up the bridge of the glasses between the eyes",
    # Leg-hand
    "patting legs": "a hand on the thigh lifting and landing repeatedly",
    "touching legs": "a hand moving down to rest on the thigh or knee",
    "scratching legs": "a hand on the thigh or knee rubbing back and forth",
    "scratching feet": "a hand reaching down to the foot",
}

CONFUSABLE: dict[str, str] = {
    "shaking body": "shrugging", "sitting straightly": "rising up", "shrugging": "shaking body",
    "turning around": "turning head", "rising up": "sitting straightly",
    "bowing head": "nodding", "head up": "bowing head", "tilting head": "turning head",
    "turning head": "shaking head", "nodding": "bowing head", "shaking head": "turning head",
    "scratching arms": "rubbing hands", "playing objects": "other finger movements",
    "putting hands together": "rubbing hands", "rubbing hands": "putting hands together",
    "pointing oneself": "scratching or touching chest", "clenching fist": "other finger movements",
    "stretching arms": "spreading hands", "retracting arms": "crossing arms", "waving": "illustrative gestures",
    "spreading hands": "stretching arms", "hands touching fingers": "putting hands together",
    "other finger movements": "clenching fist", "illustrative gestures": "waving",
    "shaking legs": "patting legs", "curling legs": "retracting feet", "spread legs": "closing legs",
    "closing legs": "spread legs", "crossing legs": "closing legs", "stretching feet": "spread legs",
    "retracting feet": "curling legs", "tiptoe": "shaking legs",
    "scratching or touching neck": "scratching or touching face",
    "scratching or touching chest": "scratching or touching neck",
    "scratching or touching back": "scratching or touching shoulder",
    "scratching or touching shoulder": "scratching or touching neck", "arms akimbo": "crossing arms",
    "crossing arms": "arms akimbo",
    "playing or tidying hair": "scratching or touching hindbrain",
    "scratching or touching hindbrain": "playing or tidying hair",
    "scratching or touching forehead": "rubbing eyes", "scratching or touching face": "touching ears",
    "rubbing eyes": "scratching or touching forehead", "touching nose": "covering mouth",
    "touching ears": "scratching or touching face", "covering face": "covering mouth",
    "covering mouth": "touching nose", "pushing glasses": "rubbing eyes",
    "patting legs": "scratching legs", "touching legs": "patting legs", "scratching legs": "touching legs",
    "scratching feet": "touching legs",
}

assert set(CUES) == set(FINE_LABELS) == set(CONFUSABLE), "every fine label needs a cue and a neighbour"
assert all(a != b and b in FINE_LABELS for a, b in CONFUSABLE.items())
