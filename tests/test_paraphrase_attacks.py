"""Rewordings that change a question's answer, written by two reviews to break the paraphrase check: every one
must be rejected (`check_paraphrase`, which both the LLM paraphrase and the reference phrasings go through)."""

import pytest

from mabench.build.paraphrase import check_paraphrase

# (template, a reply that asks something else)
ATTACKS = [
    ('Is the left hand displaced from its starting position during this micro-action?',
     'Does the left hand remain at its starting position during this micro-action?'),
    ('Does the right hand take an active part in this micro-action?',
     'Is the right hand inactive in this micro-action?'),
    ('Does the right hand take an active part in this micro-action?',
     'Does the right hand fail to take an active part in this micro-action?'),
    ("Is the overall direction of the left lower leg's motion downward during the entire action?",
     'Does the left lower leg move downward at any moment of the action?'),
    ('In the late phase of the video, does the Right Hand noticeably approach the Head?',
     'In the late phase of the video, does the Right Hand approach the Head even slightly?'),
    ('In this action, does the head move to the right before moving leftward?',
     'In this action, does the head move leftward before moving to the right?'),
    ('Compared to the right hand, did the right lower leg make a larger movement during the micro-action?',
     'Compared to the right hand, did the right lower leg make a more limited movement during the micro-action?'),
    ("Was the right hand's movement amplitude greater than that of the torso over the action?",
     "Was the right hand's movement amplitude greater than twice that of the torso over the action?"),
    ("Was the right hand's movement amplitude greater than that of the torso over the action?",
     "Was the right hand's movement amplitude lower than that of the torso over the action?"),
    ('In the late phase of the video, does the Right Hand keep a steady distance from the Head?',
     'In the late phase of the video, does the Right Hand keep changing its distance from the Head?'),
    ('During the late phase of the video, does the distance between the Right Hand and the Head stay unchanged?',
     'During the late phase of the video, does the distance between the Right Hand and the Head stay '
     'unchanged only briefly, then shrink?'),
    ('During the early phase when the right hand was moving downward and leftward, did the left hand '
     'perform a downward movement at the same time?',
     'During the early phase when the right hand was moving downward and leftward, did the left hand '
     'perform a downward movement at the same time or later?'),
    ('During the early phase when the right hand was moving downward and leftward, did the left hand '
     'perform a downward movement at the same time?',
     'During the early phase, did the left hand perform a downward movement at the same time as the right '
     'hand stopped moving downward and leftward?'),
    ('During the middle phase (1.2–2.4 seconds), did the left lower leg and the right lower leg move '
     'rightward in the same direction?',
     'During the middle phase (1.2–2.4 seconds), did the left lower leg and the right lower leg both move '
     'rightward, in the same direction?'),
    ('During the late segment, did the left foot and the right foot move in opposite horizontal directions?',
     'During the late segment, did the left foot and the right foot move in opposite vertical directions?'),
    ('Before the right hand started moving, did the torso first move as a preparatory action?',
     'Before the right hand stopped moving, did the torso first move as a preparatory action?'),
    ('Does the head move leftward before it reverses rightward?',
     'Does the head move rightward before it reverses leftward?'),
    ('Does the left foot shift from its initial position at any point in the action?',
     'Does the left foot stay in its initial position at every point in the action?'),
    ('During the middle phase, while the left foot moves rightward, does the right lower leg move leftward?',
     'During the middle phase, while the left foot moves leftward, does the right lower leg move rightward?'),
    ("Did the left hand's leftward shift occur before its rightward shift?",
     "Did the left hand's leftward shift occur after its rightward shift was done first?"),
    ("Did the left hand's leftward shift occur before its rightward shift?",
     "Did the left hand's leftward shift end before its rightward shift?"),
    ('During the early phase, does the left lower leg oscillate from side to side?',
     'During the early phase, does the left lower leg oscillate from side to side only once?'),
    ('In the middle segment, does the left hand move upward together with the head moving rightward and downward?',
     'In the middle segment, does the left hand move rightward and downward together with the head moving upward?'),
    ('In the middle segment, does the left hand move upward together with the head moving rightward and downward?',
     'In the middle segment, does the head move upward together with the left hand moving rightward and downward?'),
    ('Did the torso begin moving before the head started moving upward?',
     'Did the torso stop moving before the head started moving upward?'),
    ('Did the torso begin moving before the head started moving upward?',
     'Did the torso begin moving no sooner than the head started moving upward, before it?'),
    ('Did the torso begin moving before the head started moving upward?',
     'Did the torso lag behind the head, which started moving upward before it?'),
    ('Did the head start its motion before the right hand started its motion?',
     'Did the head start its motion only once the right hand had started its motion before?'),
    ('In the middle stage of the video, does the Left Hand neither approach nor move away from the Head?',
     'In the middle stage of the video, does the Left Hand approach the Head, or move away from it, nor stay?'),
    ('Did the torso begin moving before the head started moving upward?',
     'Did the torso begin moving only when the head had already started moving upward first?'),
    ('Did the head start its motion before the right hand started its motion?',
     'Did the head start its motion when the right hand had started its motion earlier?'),
    ("Did the left hand's leftward shift occur before its rightward shift?",
     "Did the left hand's leftward shift occur when its rightward shift had come first?"),
    ('Does the right foot move leftward at the same time as the left lower leg moves rightward in the late segment?',
     'Does the right foot move rightward at the same time as the left lower leg moves leftward in the late segment?'),
    ("In the middle segment, did the right hand share the left hand's upward direction of movement?",
     "In the middle segment, did the right hand share the left hand's upward direction of movement, going "
     'the opposite way?'),
    ('In this action, does the left hand move mainly upward?',
     'In this action, does the left hand move upward at least a little?'),
    ('During the late segment, does the right hand move away from the torso?',
     'During the late segment, does the right hand move away from the torso and then back toward it?'),
    ('In the early phase of the video, does the Left Hand noticeably approach the Torso?',
     'In the early phase of the video, does the Torso noticeably approach the Left Hand?'),
    ('Did the left hand start moving before the head began moving?',
     'Did the left hand start moving, and before that, did the head begin moving?'),
    ('Did the left hand move upward before it moved downward?',
     'Did the left hand move upward, and before that, did it move downward?'),
    ('Did the left hand move upward before it moved downward?',
     'Did the left hand, before it moved upward, move downward?'),
    ('In the late phase of the video, does the Left Hand move away from the Head?',
     'In the late phase of the video, is the Left Hand apart from the Head?'),
    ('In the late phase of the video, does the Left Hand move closer to the Head?',
     'In the late phase of the video, is the Left Hand closer to the Head?'),
    ('Did the head move with a larger amplitude than the left hand during the action?',
     'Compared to the head, did the left hand have a greater motion amplitude during the video?'),
    ('Did the head start moving before the torso began moving?',
     'Before the head began moving, did the torso start moving?'),
    ("Did the torso's movement begin before the left hand's movement?",
     "Did the torso's movement occur before the left hand began moving?"),
    ('Did the torso move before the left hand began its rightward motion?',
     'Did the torso start moving before the left hand moved rightward?'),
]


@pytest.mark.parametrize(("template", "reply"), ATTACKS)
def test_an_answer_changing_reply_is_rejected(template, reply):
    assert check_paraphrase(template, reply) is not None

