"""Frame sampling, decoding (PyAV) and the per-clip frame cache."""

from mabench.video.cache import FrameCache
from mabench.video.decode import SampledFrames, VideoError, sample_frames
from mabench.video.sampling import SamplingConfig, select_indices

__all__ = ["FrameCache", "SampledFrames", "SamplingConfig", "VideoError", "sample_frames", "select_indices"]
