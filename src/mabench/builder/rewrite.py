"""Optional LLM rewriting of caption texts, through any OpenAI-compatible endpoint, fact-checked.

Each text goes out with a system prompt that asks for a fluent rephrasing that keeps every fact.
The reply is untrusted: `check_rewrite` must find every label, part, direction and phase of the
template in it and none that the template does not state; otherwise the template text is kept
and the reason recorded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from mabench import defaults
from mabench.builder.captions import Caption, check_rewrite
from mabench.models import make_backend
from mabench.models.base import GenerationConfig, Request
from mabench.models.retry import RetryPolicy, ask_with_retries

REWRITE_SYSTEM = (
    "You are a caption rewriter for a video dataset. Rewrite the text in fluent, natural English with "
    "varied wording. Keep every body part, side (left/right), direction, phase (early/middle/late) and label "
    "exactly as stated; do not add any movement, part or detail that is not in the text; keep a final line "
    "that starts with '[Body part' unchanged. Reply with the rewritten text only."
)


@dataclass
class RewriteResult:
    accepted: int = 0
    rejected: int = 0
    failed: int = 0


async def _rewrite_all(captions: list[Caption], spec: str, base_url: str | None, api_key_env: str,
                       concurrency: int) -> RewriteResult:
    kind, _, name = spec.partition(":")
    if kind != "openai" or not name:
        raise ValueError(f"--rewrite {spec}: expected openai:NAME (any OpenAI-compatible endpoint)")
    # text only: the rewriter sees the caption, never the video
    backend = make_backend(f"blind:{name}", base_url=base_url, api_key_env=api_key_env)
    await backend.probe()
    settings = RetryPolicy(max_retries=3)
    sem = asyncio.Semaphore(concurrency)
    res = RewriteResult()

    async def one(c: Caption, field: str) -> None:
        template = getattr(c, field)
        req = Request(qid=f"{c.clip}:{field}", task="MADU" if field == "madu" else "MARE", system_prompt=REWRITE_SYSTEM,
                      question=f"TEXT:\n{template}", gen=GenerationConfig(temperature=0.7, max_tokens=1024))
        async with sem:
            resp, err, _ = await ask_with_retries(backend, req, settings)
        status = c.rewrite.setdefault(field, {})
        if resp is None:
            status.update(status="failed", reason=err)
            res.failed += 1
            return
        reason = check_rewrite(template, resp.text, c)
        if reason is None:
            setattr(c, field, resp.text.strip())
            status.update(status="accepted", template=template)
            res.accepted += 1
        else:
            status.update(status="rejected", reason=reason)
            res.rejected += 1

    try:
        await asyncio.gather(*(one(c, f) for c in captions for f in ("madu", "mare")))
    finally:
        await backend.aclose()
    return res


def rewrite_captions(captions: list[Caption], spec: str, base_url: str | None = None,
                     api_key_env: str = defaults.API_KEY_ENV,
                     concurrency: int = defaults.REWRITE_CONCURRENCY) -> RewriteResult:
    """Rewrite the MADU and MARE texts of `captions` in place where the rewrite passes the fact check."""
    return asyncio.run(_rewrite_all(captions, spec, base_url, api_key_env, concurrency))
