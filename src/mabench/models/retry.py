"""Retries and timeouts for any backend call: eval, the judge and the caption rewriter share them.

A request is retried on timeouts, 429 and 5xx (errors the backend marks `retryable`) with
exponential backoff and jitter, honouring a server's Retry-After; anything else fails at once.

>>> policy = RetryPolicy(max_retries=2, backoff_base_s=0.5, request_timeout_s=30)
>>> # resp, err, attempts = await ask_until_done(backend, request, policy)
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Protocol

from mabench import defaults
from mabench.models.base import Backend, BackendError, Request, Response

BACKOFF_MAX_S = defaults.BACKOFF_MAX_S
RETRY_AFTER_MAX_S = defaults.RETRY_AFTER_MAX_S


class RetrySettings(Protocol):
    """What a retry loop needs; `RetryPolicy` and the runner's `EvalSettings` both have it."""

    @property
    def max_retries(self) -> int: ...
    @property
    def backoff_base_s(self) -> float: ...
    @property
    def request_timeout_s(self) -> float: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = defaults.MAX_RETRIES
    backoff_base_s: float = defaults.BACKOFF_BASE_S
    request_timeout_s: float = defaults.REQUEST_TIMEOUT_S


async def ask_until_done(backend: Backend, req: Request,
                         settings: RetrySettings) -> tuple[Response | None, BackendError | None, int]:
    """(response or None, the last error or None, attempts): the error keeps its `kind`."""
    err = BackendError("no attempt")
    attempt = 0
    for attempt in range(settings.max_retries + 1):
        try:
            # a little over the backend's own timeout: a backend that ignores its timeout is still cut
            resp = await asyncio.wait_for(backend.generate(req), settings.request_timeout_s + 5)
            return resp, None, attempt + 1
        except asyncio.TimeoutError:
            err = BackendError(f"timed out after {settings.request_timeout_s:.0f} s", retryable=True, kind="timeout")
        except BackendError as e:
            err = e
        if not err.retryable or attempt == settings.max_retries:
            break
        if err.retry_after is not None:
            delay = min(err.retry_after, RETRY_AFTER_MAX_S)
        else:
            delay = min(BACKOFF_MAX_S, settings.backoff_base_s * 2 ** attempt) * (0.5 + random.random())
        await asyncio.sleep(delay)
    return None, err, attempt + 1


async def ask_with_retries(backend: Backend, req: Request,
                           settings: RetrySettings) -> tuple[Response | None, str | None, int]:
    """(response or None, error text or None, attempts)."""
    resp, err, attempts = await ask_until_done(backend, req, settings)
    return resp, None if err is None else str(err), attempts
