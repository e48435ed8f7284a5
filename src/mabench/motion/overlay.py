"""Contact sheets: see what the descriptors saw.

One PNG per clip: 8 frames with the skeleton, the face points and two axes drawn (the head's, from
the ears' midpoint through the nose; the trunk's, from the hip centre to the neck), and under them the
main signals over time, each divided by its floor (so a line past the dashed +-2 band is a movement
the descriptors count). Drawn with OpenCV alone, so the core install can make them.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mabench.motion.signals import series_for_plot
from mabench.motion.skeleton import J, Skeleton
from mabench.video.decode import decode_all

SHEET_FRAMES = 8
TILE_H = 300
PLOT_H = 220
BONES = [("neck", "head"), ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip")] + [
    (f"{s}_{a}", f"{s}_{b}") for s in ("left", "right") for a, b in (
        ("shoulder", "elbow"), ("elbow", "wrist"), ("wrist", "hand"), ("shoulder", "hip"), ("hip", "knee"),
        ("knee", "ankle"), ("ankle", "toe"))]
LEFT, RIGHT, AXIS = (60, 90, 240), (240, 120, 40), (40, 200, 40)  # RGB: subject's left blue, right orange
COLOURS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 140, 140),
           (240, 50, 230), (128, 128, 0)]


def _p(x: np.ndarray, s: float) -> tuple[int, int]:
    return int(round(x[0] * s)), int(round(x[1] * s))


def _draw_frame(img: np.ndarray, sk: Skeleton, i: int, s: float) -> None:
    pts = sk.points[i]
    for a, b in BONES:
        pa, pb = pts[J[a]], pts[J[b]]
        if np.isfinite(pa).all() and np.isfinite(pb).all():
            colour = LEFT if a.startswith("left") else RIGHT if a.startswith("right") else (220, 220, 220)
            cv2.line(img, _p(pa, s), _p(pb, s), colour, 2, cv2.LINE_AA)
    for name, arr in sk.face.items():
        if np.isfinite(arr[i, :2]).all():
            colour = LEFT if name.startswith("left") else RIGHT if name.startswith("right") else (255, 255, 0)
            cv2.circle(img, _p(arr[i, :2], s), 3, colour, -1, cv2.LINE_AA)
    face = sk.face
    if all(k in face for k in ("nose", "left_ear", "right_ear")):
        ears = (face["left_ear"][i, :2] + face["right_ear"][i, :2]) / 2
        nose = face["nose"][i, :2]
        if np.isfinite(ears).all() and np.isfinite(nose).all():
            tip = ears + 2.5 * (nose - ears)  # lengthened so a small turn shows
            cv2.arrowedLine(img, _p(ears, s), _p(tip, s), AXIS, 2, cv2.LINE_AA, tipLength=0.25)
    hip = (pts[J["left_hip"]] + pts[J["right_hip"]]) / 2
    if np.isfinite(hip).all() and np.isfinite(pts[J["neck"]]).all():
        cv2.arrowedLine(img, _p(hip, s), _p(pts[J["neck"]], s), AXIS, 2, cv2.LINE_AA, tipLength=0.08)


def _plot(series: dict[str, np.ndarray], floors: dict[str, float], times: np.ndarray, width: int,
          marks: list[float]) -> np.ndarray:
    img = np.full((PLOT_H, width, 3), 255, np.uint8)
    left, right, top, bottom = 60, 170, 12, PLOT_H - 24
    t0, t1 = float(times[0]), float(times[-1]) or 1.0
    lim = 6.0  # floors shown either side of the start value

    def xy(t: float, v: float) -> tuple[int, int]:
        x = left + (t - t0) / max(t1 - t0, 1e-6) * (width - left - right)
        y = (top + bottom) / 2 - np.clip(v, -lim, lim) / lim * (bottom - top) / 2
        return int(x), int(y)

    for v in (-2, 2):
        a, b = xy(t0, v), xy(t1, v)
        for x in range(a[0], b[0], 12):
            cv2.line(img, (x, a[1]), (min(x + 6, b[0]), a[1]), (170, 170, 170), 1)
    cv2.line(img, xy(t0, 0), xy(t1, 0), (200, 200, 200), 1)
    for t in marks:
        cv2.line(img, (xy(t, 0)[0], top), (xy(t, 0)[0], bottom), (225, 225, 225), 1)
    for k, (name, values) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        rel = (values - values[: max(1, len(values) // 15)].mean()) / max(floors.get(name, 1.0), 1e-9)
        pts = np.array([xy(float(t), float(r)) for t, r in zip(times, rel, strict=True)], np.int32)
        cv2.polylines(img, [pts], False, colour, 2, cv2.LINE_AA)
        cv2.putText(img, name, (width - right + 8, top + 14 + 18 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1,
                    cv2.LINE_AA)
    cv2.putText(img, "signal / floor", (4, top + 10), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (90, 90, 90), 1, cv2.LINE_AA)
    for v in (-2, 2):
        cv2.putText(img, f"{v:+d}", (left - 26, xy(t0, v)[1] + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (90, 90, 90), 1)
    cv2.putText(img, f"{t0:.1f} s", (left, PLOT_H - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (90, 90, 90), 1)
    cv2.putText(img, f"{t1:.1f} s", (width - right - 40, PLOT_H - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (90, 90, 90), 1)
    return img


EVENT_ROW_H = 22


def _timeline(events: list[dict], t0: float, t1: float, width: int) -> np.ndarray:
    """One row per movement event under the plot: a bar over its span and its words (part, kind, direction,
    rhythm, confidence), the dominant one first and in red, carried ones grey."""
    left, right = 60, 170
    rows = max(1, len(events))
    img = np.full((EVENT_ROW_H * rows + 26, width, 3), 255, np.uint8)
    cv2.putText(img, "movement events", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (60, 60, 60), 1, cv2.LINE_AA)

    def x(t: float) -> int:
        return int(left + (t - t0) / max(t1 - t0, 1e-6) * (width - left - right))

    if not events:
        cv2.putText(img, "none", (left, 38), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (90, 90, 90), 1, cv2.LINE_AA)
    for k, e in enumerate(events):
        y = 26 + EVENT_ROW_H * k
        colour = (200, 30, 30) if e.get("rank") == 1 and not e.get("carried_by") else \
            (150, 150, 150) if e.get("carried_by") or e.get("confidence") == "low" else (40, 90, 200)
        cv2.rectangle(img, (x(e["start_s"]), y + 15), (max(x(e["end_s"]), x(e["start_s"]) + 2), y + 20), colour, -1)
        rhythm = f"back and forth, {e['strokes']} strokes" if e["rhythm"] == "repeated" else "single"
        carried = f", carried by the {e['carried_by']}" if e.get("carried_by") else ""
        label = (f"{e['part']}: {e['kind'].replace('_', ' ')} {e['direction']} ({rhythm}) "
                 f"{e['start_s']:.2f}-{e['end_s']:.2f} s, {e['confidence']}{carried}")
        cv2.putText(img, label[:150], (x(t0) + 4, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.42, colour, 1, cv2.LINE_AA)
    return img


def contact_sheet(clip: str | Path, sk: Skeleton, record: dict, out: str | Path,
                  frames: list[np.ndarray] | None = None, times: np.ndarray | None = None,
                  flow: dict | None = None) -> Path:
    """Write the clip's contact sheet to `out` (PNG) and return its path."""
    if frames is None or times is None:
        frames, times, _ = decode_all(clip, "rgb24", 640)
    idx = np.linspace(0, len(frames) - 1, min(SHEET_FRAMES, len(frames))).round().astype(int)
    tiles = []
    for i in idx:
        img = np.ascontiguousarray(frames[i][..., :3]).copy()
        s = img.shape[1] / sk.width  # skeleton pixels -> this frame's pixels
        k = int(np.argmin(np.abs(sk.times - times[i])))
        _draw_frame(img, sk, k, s)
        scale = TILE_H / img.shape[0]
        img = cv2.resize(img, (int(img.shape[1] * scale), TILE_H), interpolation=cv2.INTER_AREA)
        cv2.putText(img, f"{times[i]:.2f} s", (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 2, cv2.LINE_AA)
        tiles.append(img)
    row = np.concatenate(tiles, axis=1)
    sig = record.get("signals", {})
    series = {k: v for k, v in series_for_plot(sk).items() if k in sig}
    floors = {k: sig[k]["floor"] for k in series}
    head_flow = (record.get("flow") or {}).get("head")
    if flow is not None and head_flow and "displacement" in flow:  # the head as the flow saw it
        d = flow["displacement"]["head"]
        for k, name in enumerate(("head_flow_x", "head_flow_y")):
            series[name] = np.interp(sk.times, np.asarray(flow["times"]), d[:, k])
            floors[name] = head_flow["floor"]
    plot = _plot(series, floors, sk.times, row.shape[1], [float(times[i]) for i in idx])
    head = np.full((30, row.shape[1], 3), 255, np.uint8)
    moving = [f"{p} ({record['parts'][p].get('source', 'keypoints')})" for p in record.get("ranking", [])[:4]]
    moves = [k for k, v in sig.items() if v["state"] == "moves"]
    text = (f"{Path(clip).name}   moving: {', '.join(moving) or 'none'}   "
            f"signals that move: {', '.join(moves) or 'none'}")
    cv2.putText(head, text[:200], (6, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    timeline = _timeline(record.get("events", {}).get("events", []), float(sk.times[0]), float(sk.times[-1]),
                         row.shape[1])
    sheet = np.concatenate([head, row, plot, timeline], axis=0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"{out}: could not encode the contact sheet")
    out.write_bytes(buf.tobytes())
    return out



