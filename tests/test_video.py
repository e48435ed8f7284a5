import asyncio
import math
from fractions import Fraction

import av
import numpy as np
import pytest

from mabench.synth import write_box_clip
from mabench.video import FrameCache, SamplingConfig, VideoError, sample_frames, select_indices
from mabench.video.sampling import target_size


def test_uniform_spreads_over_the_whole_clip():
    ts = [i / 25 for i in range(50)]
    assert select_indices(ts, SamplingConfig()) == [0, 7, 14, 21, 28, 35, 42, 49]
    assert select_indices(ts[:3], SamplingConfig()) == [0, 1, 2]  # never more than the clip has
    assert select_indices([0.0], SamplingConfig()) == [0]
    with pytest.raises(ValueError):
        select_indices([], SamplingConfig())


def test_fps_is_even_and_clamped():
    ts = [i / 30 for i in range(150)]  # 5 s
    idx = select_indices(ts, SamplingConfig(strategy="fps", fps=2.0))
    assert len(idx) == 10 and len(idx) % 2 == 0
    short = [i / 30 for i in range(15)]  # 0.5 s -> clamped up to the minimum of 4
    assert len(select_indices(short, SamplingConfig(strategy="fps"))) == 4
    assert len(select_indices(ts, SamplingConfig(strategy="fps", fps=30, max_frames=16))) == 16
    assert len(select_indices(ts[:3], SamplingConfig(strategy="fps"))) == 2  # even, <= available


def test_fps3_is_three_fps_from_the_first_frame_at_most_eight():
    ts = [i / 30 for i in range(150)]
    idx = select_indices(ts, SamplingConfig(strategy="fps3"))
    assert idx == [0, 10, 20, 30, 40, 50, 60, 70]
    assert select_indices(ts[:31], SamplingConfig(strategy="fps3")) == [0, 10, 20, 30]


@pytest.mark.parametrize("seconds, fps, stride, count", [
    (1.0, 30, 3, 8),   # the official runner's rule: a 1-s clip at 30 fps gets 8 frames 3 apart
    (2.0, 30, 7, 8),   # 60 // 8 = 7 < round(30 / 3) = 10
    (0.5, 24, 1, 8),   # 12 // 8 = 1
    (5.0, 60, 20, 8),
    (0.2, 25, 1, 5),   # fewer frames than 8: every frame
])
def test_kit_frames_follow_the_official_stride(tmp_path, seconds, fps, stride, count):
    from mabench.video.kit import kit_stride

    p = write_box_clip(tmp_path / "c.mp4", seconds=seconds, fps=fps, width=160, height=120)
    k = sample_frames(p, SamplingConfig(strategy="kit", fps=3.0, max_side=None, max_pixels=None, jpeg_quality=95))
    assert k.indices == [i * stride for i in range(count)]
    assert kit_stride(fps, round(seconds * fps)) == stride
    assert (k.width, k.height) == (160, 120)  # full resolution


def test_resize_never_upscales():
    assert target_size(1920, 1080, SamplingConfig(max_side=640, max_pixels=None)) == (640, 360)
    assert target_size(320, 240, SamplingConfig()) == (320, 240)
    w, h = target_size(1920, 1080, SamplingConfig(max_side=None, max_pixels=100_000))
    assert w * h <= 100_000 and abs(w / h - 16 / 9) < 0.02


@pytest.mark.parametrize("codec", ["libx264", "mpeg4"])
def test_decode_real_clip(tmp_path, codec):
    p = write_box_clip(tmp_path / "c.mp4", seconds=2.0, fps=25, width=640, height=360, codec=codec)
    f = sample_frames(p, SamplingConfig(max_side=320))
    assert len(f.jpegs) == 8 and f.total_frames == 50
    assert f.timestamps[0] == 0.0 and abs(f.timestamps[-1] - 1.96) < 1e-6
    assert (f.width, f.height) == (320, 180)
    assert all(j[:2] == b"\xff\xd8" for j in f.jpegs)  # JPEG
    k = sample_frames(p, SamplingConfig(strategy="fps3"))
    assert len(k.jpegs) == 6 and abs(k.timestamps[1] - 0.32) < 1e-6


def test_one_frame_and_broken_clips(tmp_path):
    one = write_box_clip(tmp_path / "one.mp4", seconds=0.04, fps=25)
    f = sample_frames(one, SamplingConfig())
    assert len(f.jpegs) == 1 and f.timestamps == [0.0]
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500)
    with pytest.raises(VideoError, match="bad.mp4"):
        sample_frames(bad, SamplingConfig())
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoError):
        sample_frames(empty, SamplingConfig())
    with pytest.raises(VideoError, match="not found"):
        sample_frames(tmp_path / "nope.mp4", SamplingConfig())


def test_variable_frame_rate_uses_real_timestamps(tmp_path):
    """Frames at irregular times: uniform sampling follows the frame order, stamps are the real ones."""
    path = tmp_path / "vfr.mp4"
    times_ms = [0, 40, 80, 500, 540, 1500, 1540, 2000]
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        for t in times_ms:
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), t % 255, np.uint8), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            for pkt in s.encode(frame):
                out.mux(pkt)
        for pkt in s.encode():
            out.mux(pkt)
    f = sample_frames(path, SamplingConfig(num_frames=8))
    assert f.total_frames == 8
    assert [round(t, 3) for t in f.timestamps] == [t / 1000 for t in times_ms]


def test_cache_decodes_each_clip_once(tmp_path):
    paths = [write_box_clip(tmp_path / f"c{i}.mp4", seconds=0.5, fps=10, seed=i) for i in range(3)]
    cache = FrameCache(SamplingConfig(), memory_mb=64)

    async def go():
        # 12 concurrent requests per clip, like the questions of a clip
        return await asyncio.gather(*(cache.get(p) for p in paths for _ in range(12)))

    results = asyncio.run(go())
    assert cache.stats.decodes == 3
    assert all(r.data_urls and r.data_urls[0].startswith("data:image/jpeg;base64,") for r in results)
    cache.close()


def test_disk_cache_survives_a_new_run_and_notices_changes(tmp_path):
    p = write_box_clip(tmp_path / "c.mp4", seconds=0.5, fps=10)
    disk = tmp_path / "fc"
    c1 = FrameCache(SamplingConfig(), disk_dir=disk)
    a = asyncio.run(c1.get(p))
    c2 = FrameCache(SamplingConfig(), disk_dir=disk)
    b = asyncio.run(c2.get(p))
    assert (c1.stats.decodes, c2.stats.decodes, c2.stats.disk_hits) == (1, 0, 1)
    assert a.data_urls == b.data_urls and a.timestamps == b.timestamps and not a.jpegs
    c3 = FrameCache(SamplingConfig(num_frames=4), disk_dir=disk)  # other settings: other key
    assert len(asyncio.run(c3.get(p)).data_urls) == 4 and c3.stats.decodes == 1
    write_box_clip(p, seconds=0.3, fps=10, seed=5)  # the file changed
    c4 = FrameCache(SamplingConfig(), disk_dir=disk)
    asyncio.run(c4.get(p))
    assert c4.stats.decodes == 1


def test_memory_cache_is_bounded(tmp_path):
    paths = [write_box_clip(tmp_path / f"c{i}.mp4", seconds=0.5, fps=10, seed=i) for i in range(6)]
    cache = FrameCache(SamplingConfig(), memory_mb=0.2)

    async def go():
        for p in paths:
            await cache.get(p)

    asyncio.run(go())
    assert len(cache._lru) < 6 and cache._bytes <= max(0.2 * 2**20, max(f.nbytes for f in cache._lru.values()))


def test_failed_clip_is_remembered(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"nope" * 100)
    cache = FrameCache(SamplingConfig())

    async def go():
        return await asyncio.gather(*(cache.get(bad) for _ in range(5)), return_exceptions=True)

    res = asyncio.run(go())
    assert all(isinstance(r, VideoError) for r in res)
    assert cache.stats.decodes == 1 and cache.stats.failures == 1


def _published_smart_nframes(total_frames, video_fps, fps=2.0, min_frames=4, max_frames=32):
    """qwen-vl-utils' `smart_nframes` (vision_process.py, fps path), written out from its source."""
    factor = 2
    min_frames = math.ceil(min_frames / factor) * factor
    max_frames = math.floor(min(max_frames, total_frames) / factor) * factor
    nframes = total_frames / video_fps * fps
    nframes = min(min(max(nframes, min_frames), max_frames), total_frames)
    return math.floor(nframes / factor) * factor


def test_fps_frame_count_is_qwen_vl_utils_smart_nframes():
    from mabench.video.sampling import smart_nframes

    assert smart_nframes(73, 25.0) == 4  # 5.84 frames: rounded down, not to the nearest even count (6)
    for video_fps in (10.0, 24.0, 25.0, 29.97, 30.0, 60.0):
        for total in range(2, 400, 3):
            for fps, lo, hi in ((2.0, 4, 32), (1.0, 4, 768), (4.0, 8, 16)):
                want = _published_smart_nframes(total, video_fps, fps, lo, hi)
                assert smart_nframes(total, video_fps, fps, lo, hi) == want, (total, video_fps, fps)
                ts = [i / video_fps for i in range(total)]
                cfg = SamplingConfig(strategy="fps", fps=fps, min_frames=lo, max_frames=hi)
                assert len(select_indices(ts, cfg)) == want, (total, video_fps, fps)
