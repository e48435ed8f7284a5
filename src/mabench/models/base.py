"""One small async interface for every model backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mabench.video.decode import SampledFrames


@dataclass(frozen=True)
class GenerationConfig:
    temperature: float | None = 0.0  # None: not sent (the server's default), as the official runner does
    max_tokens: int = 1024
    seed: int | None = None
    top_p: float | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)  # passed through verbatim (vLLM kwargs...)


@dataclass(frozen=True)
class Example:
    """A solved in-context example (few-shot): sent before the question as a user turn (its own
    frames or clip, its question) and an assistant turn (its answer)."""

    question: str
    answer: str
    frames: SampledFrames | None = None
    video_path: Path | None = None


@dataclass
class Request:
    qid: str
    task: str
    system_prompt: str
    question: str
    choices: tuple[str, ...] = ()  # valid closed answers, for baselines
    frames: SampledFrames | None = None
    video_path: Path | None = None
    gen: GenerationConfig = field(default_factory=GenerationConfig)
    examples: tuple[Example, ...] = ()  # earlier turns, in order (few-shot)
    system_always: bool = False  # send the system message even when empty (`--protocol kit`)


@dataclass
class Response:
    text: str
    usage: dict[str, Any] | None = None
    latency_s: float = 0.0


class BackendError(Exception):
    """A failed request. `retryable` errors (timeouts, 429, 5xx, malformed replies) are retried.

    `kind` says what failed: "connection" (nothing answered: refused, reset, unreachable), "timeout"
    (the server took too long), "status" (an HTTP error) or "reply" (an unusable answer). The runner
    stops a run after many connection failures in a row: a dead server, not bad questions.
    """

    def __init__(self, message: str, retryable: bool = False, retry_after: float | None = None,
                 kind: str = "reply", status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.kind = kind
        self.status = status  # the HTTP status, for kind "status"

    @property
    def unanswered(self) -> bool:
        """Nothing came back: the server is gone or stalled (connection failures and timeouts)."""
        return self.kind in ("connection", "timeout")

    @property
    def repeats(self) -> bool:
        """An HTTP error that the same kind of request will get again (400, 404, 413, 422, ...): a
        wrong --base-url, a model without image input, a limit the request shape breaks."""
        return self.kind == "status" and not self.retryable and self.status is not None and 400 <= self.status < 500


class EndpointError(Exception):
    """The endpoint cannot be used at all (unreachable, unknown model, bad key): stop the run."""


class Backend(Protocol):
    name: str
    needs_frames: bool  # False for text-only baselines: no clip is decoded
    video_mode: str  # "frames" or "video"

    async def probe(self) -> None: ...

    async def generate(self, req: Request) -> Response: ...

    async def aclose(self) -> None: ...

    def describe(self) -> dict[str, Any]:
        """Settings that identify this backend in a run's config (never secrets)."""
        ...
