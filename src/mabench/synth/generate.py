"""Write synthetic micro-action clips with their skeletons and ground truth.

`write_set(out, n, seed)` writes::

    out/clips/NAME.mp4         h264 video of the figure performing one action
    out/skeletons/NAME.json    the exact per-frame keypoints (mabench-skeleton/1; figure v2 adds the face points)
    out/truth/NAME.json        labels, the motion program and the ground-truth facts
    out/labels.csv             clip,label,subject - the input `mabench build` takes
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from mabench.motion.skeleton import JOINTS, J, Skeleton
from mabench.synth.actions import PROGRAMS, PROGRAMS_V2, Ctx, make_program
from mabench.synth.figure import HEAD_FROM, TORSO, Body, background, draw, face_points, head_model, joints
from mabench.synth.truth import ground_truth
from mabench.taxonomy import FINE_TO_COARSE

ACTIONS: tuple[str, ...] = tuple(PROGRAMS_V2)   # the default figure, v2
ACTIONS_BY_FIGURE: dict[str, tuple[str, ...]] = {"v1": tuple(PROGRAMS), "v2": ACTIONS}


@dataclass(frozen=True)
class ClipSpec:
    name: str
    label: str
    subject: int
    seed: int
    width: int = 320
    height: int = 240
    fps: int = 25
    duration: float = 3.0
    figure: str = "v2"
    secondary: int | None = None  # secondary movements of other parts; None: 0-2 at random
    # v2 only: the face pixelated as MA-52's are, and the skeleton's face points placed from the head's
    # outline as a pose model places them on a mosaic (they do not follow the head's rotations)
    masked_face: bool = False


def simulate(spec: ClipSpec) -> tuple[np.ndarray, np.ndarray, dict, Body, dict[str, np.ndarray]]:
    """(times, exact joints (T, J, 2), program as JSON, body, pose parameters) of one clip."""
    rng = np.random.default_rng(spec.seed)
    body = Body.for_subject(spec.subject)
    n = max(2, int(round(spec.duration * spec.fps)))
    times = np.arange(n) / spec.fps
    ctx = Ctx(rng, float(times[-1]), spec.width, spec.height, body, spec.figure)
    prog = make_program(spec.label, ctx, spec.secondary)
    params = prog.params(times)
    pts = joints(params, spec.width, spec.height, body, spec.figure)
    program = {"label": prog.label, "side": prog.side, "rhythm": prog.rhythm, "initial": prog.initial,
               "strokes": [asdict(s) for s in prog.strokes]}
    return times, pts, program, body, params


def render(path: Path, spec: ClipSpec, pts: np.ndarray, params: dict[str, np.ndarray], body: Body) -> None:
    rng = np.random.default_rng(spec.seed + 7)
    bg = background(spec.width, spec.height, rng)
    u = spec.height / 6.0 * body.scale
    head = head_model(params, spec.width, spec.height, body) if spec.figure == "v2" else None
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(spec.fps))
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        for i in range(len(pts)):
            img = bg.copy()
            img += rng.normal(0, 2.0, size=(spec.height, spec.width, 1)).astype(np.float32)  # sensor noise
            img *= 1.0 + 0.01 * np.sin(i / 7.0)                                            # light flicker
            frame = np.clip(img, 0, 255).astype(np.uint8)
            draw(frame, pts[i], body, {k: float(v[i]) for k, v in params.items()}, u,
                 None if head is None else {k: v[i] for k, v in head.items()})
            if spec.masked_face and head is not None:
                mask_face(frame, head, i)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


MOSAIC_BLOCKS = 4      # blocks across the masked face (MA-52's masks show 2-4 blocks across)
MASK_EAR_WIDTHS = 1.5  # the mask's side, in ear widths at rest


def mask_face(frame: np.ndarray, head: dict[str, np.ndarray], i: int) -> None:
    """Pixelate a square over the face of frame `i`, centred where a face detector puts it (the face points'
    mean), its side from the ears' distance at rest."""
    names = ("nose", "left_eye", "right_eye", "mouth_left", "mouth_right")
    cx, cy = np.mean([head[n][i, :2] for n in names], axis=0)
    side = MASK_EAR_WIDTHS * float(np.linalg.norm(head["left_ear"][0, :2] - head["right_ear"][0, :2]))
    h, w = frame.shape[:2]
    x0, x1 = max(0, int(cx - side / 2)), min(w, int(cx + side / 2))
    y0, y1 = max(0, int(cy - side / 2)), min(h, int(cy + side / 2))
    if x1 - x0 < MOSAIC_BLOCKS or y1 - y0 < MOSAIC_BLOCKS:
        return
    small = cv2.resize(frame[y0:y1, x0:x1], (MOSAIC_BLOCKS, MOSAIC_BLOCKS), interpolation=cv2.INTER_AREA)
    frame[y0:y1, x0:x1] = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)


def outline_face_points(face: dict[str, np.ndarray], head: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Face points as a pose model places them on a masked face: where they sit at the first frame, carried
    with the head's centre (its outline), blind to its turns, nods and tilts."""
    shift = head["centre"][:, :2] - head["centre"][:1, :2]
    return {k: np.concatenate([v[:1, :2] + shift, v[:, 2:]], axis=1) for k, v in face.items()}


def write_clip(out: Path, spec: ClipSpec, video: bool = True) -> dict:
    """Write one clip's files under `out`; returns its truth record."""
    times, pts, program, body, params = simulate(spec)
    torso_px = TORSO * spec.height / 6.0 * body.scale
    face = face_points(params, spec.width, spec.height, body) if spec.figure == "v2" else {}
    seen_pts, seen_face = pts, face
    if spec.masked_face and face:
        seen_face = outline_face_points(face, head_model(params, spec.width, spec.height, body))
        seen_pts = pts.copy()
        seen_pts[:, J["head"]] = np.mean([seen_face[k][:, :2] for k in HEAD_FROM], axis=0)
    sk = Skeleton(points=seen_pts, conf=np.ones(pts.shape[:2]), times=times, width=spec.width, height=spec.height,
                  source="synthetic", face=seen_face)
    truth = {"clip": spec.name + ".mp4", "label": spec.label, "coarse": FINE_TO_COARSE[spec.label],
             "subject": spec.subject, "spec": asdict(spec), "program": program, "torso_px": torso_px,
             "joints": list(JOINTS), "facts": ground_truth(pts, times, torso_px, face or None)}
    (out / "skeletons").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    (out / "skeletons" / f"{spec.name}.json").write_text(json.dumps(sk.to_json()), encoding="utf-8")
    (out / "truth" / f"{spec.name}.json").write_text(json.dumps(truth), encoding="utf-8")
    if video:
        render(out / "clips" / f"{spec.name}.mp4", spec, pts, params, body)
    return truth


def plan(n: int, seed: int = 0, subjects: int | None = None, width: int = 320, height: int = 240, fps: int = 25,
         min_s: float = 2.0, max_s: float = 4.0, actions: tuple[str, ...] | None = None,
         figure: str = "v2", masked_face: bool = False) -> list[ClipSpec]:
    """`n` clip specs cycling through the actions (balanced), with random subject and duration."""
    if not 1.0 <= min_s <= max_s <= 5.0:
        raise ValueError(f"durations must satisfy 1 <= min <= max <= 5 seconds, got {min_s}..{max_s}")
    if figure not in ACTIONS_BY_FIGURE:
        raise ValueError(f"unknown figure {figure!r}; one of {tuple(ACTIONS_BY_FIGURE)}")
    actions = actions or ACTIONS_BY_FIGURE[figure]
    rng = np.random.default_rng(seed)
    subjects = subjects or max(4, min(20, n // 6))
    labels = [actions[i % len(actions)] for i in range(n)]
    rng.shuffle(labels)
    specs = []
    for i, label in enumerate(labels):
        subject = int(rng.integers(subjects))
        slug = label.replace(" ", "-")
        specs.append(ClipSpec(name=f"S{subject:02d}_{slug}_{i:04d}", label=label, subject=subject,
                              seed=int(rng.integers(2**31)), width=width, height=height, fps=fps,
                              duration=round(float(rng.uniform(min_s, max_s)), 2), figure=figure,
                              masked_face=masked_face and figure == "v2"))
    return specs


def write_set(out: str | Path, n: int, seed: int = 0, video: bool = True, workers: int = 1, **kw) -> Path:
    """Write `n` clips (see the module docstring); returns `out/labels.csv`."""
    out = Path(out)
    specs = plan(n, seed, **kw)
    if workers > 1:
        from mabench.pool import process_pool
        with process_pool(workers) as pool:
            list(pool.map(write_clip, [out] * len(specs), specs, [video] * len(specs), chunksize=4))
    else:
        for spec in specs:
            write_clip(out, spec, video)
    labels = out / "labels.csv"
    with labels.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["clip", "label", "subject"])
        for spec in specs:
            w.writerow([f"{spec.name}.mp4", spec.label, f"S{spec.subject:02d}"])
    return labels
