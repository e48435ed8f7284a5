"""The official MA-Bench runner's frames (MAC 2026 kit), exactly: OpenCV decoding and seeking, its stride
rule on OpenCV's reported fps and frame count, full resolution, OpenCV JPEG.

The rule, on what `cv2.VideoCapture` reports (fps, or 30 when it reports 0; frame count):

    stride = max(1, min(round(fps / target_fps), max(1, frame_count // max_frames)))

frames 0, stride, 2 x stride, ... (seeking with CAP_PROP_POS_FRAMES before each read) until `max_frames`
are read or a read fails. A 1-s clip at 30 fps gets 8 frames 3 apart; a 2.13-s one 8 frames 10 apart.
Each frame is encoded as OpenCV encodes it (`cv2.imencode(".jpg", bgr, [IMWRITE_JPEG_QUALITY, q])`), so
the bytes are the runner's wherever both use the same OpenCV build.
"""

from __future__ import annotations

from pathlib import Path

from mabench.video.decode import SampledFrames, VideoError
from mabench.video.sampling import SamplingConfig

# The runner's defaults (its TARGET_FPS, MAX_FRAMES, JPEG_QUALITY environment variables).
KIT_TARGET_FPS = 3.0
KIT_MAX_FRAMES = 8
KIT_JPEG_QUALITY = 95
KIT_FALLBACK_FPS = 30.0  # what the runner assumes when OpenCV reports no frame rate


def kit_stride(fps: float, frame_count: int, target_fps: float = KIT_TARGET_FPS,
               max_frames: int = KIT_MAX_FRAMES) -> int:
    """The runner's stride between sampled frame indices.

    >>> kit_stride(30.0, 30), kit_stride(30.0, 64), kit_stride(25.0, 125)
    (3, 8, 8)
    """
    return max(1, min(int(round(fps / max(target_fps, 1e-6))), max(1, frame_count // max(max_frames, 1))))


def kit_sample(path: str | Path, cfg: SamplingConfig) -> SampledFrames:
    """The frames the official runner sends for `path` (`cfg.fps` is its target fps, `cfg.num_frames` its
    maximum, `cfg.jpeg_quality` its JPEG quality; frames are never resized)."""
    import cv2

    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: clip not found")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoError(f"{path}: OpenCV cannot open it")
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or KIT_FALLBACK_FPS
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        step = kit_stride(fps, total, cfg.fps, cfg.num_frames)
        jpegs: list[bytes] = []
        indices: list[int] = []
        size = (0, 0)
        idx = 0
        while len(jpegs) < cfg.num_frames:
            cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
            ok, frame = cap.read()
            if not ok:
                break
            ok, buf = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), cfg.jpeg_quality])
            if not ok:
                raise VideoError(f"{path}: OpenCV could not encode frame {idx} as JPEG")
            jpegs.append(buf.tobytes())
            indices.append(idx)
            size = (frame.shape[1], frame.shape[0])
            idx += step
    finally:
        cap.release()
    if not jpegs:
        raise VideoError(f"{path}: no frame could be read with OpenCV")
    return SampledFrames(jpegs, [i / fps for i in indices], indices, size[0], size[1], total, total / fps)
