"""Model backends behind one async interface; `make_backend` parses `--model` specs."""

from __future__ import annotations

from mabench import defaults
from mabench.models.base import Backend, BackendError, EndpointError, GenerationConfig, Request, Response


def make_backend(spec: str, base_url: str | None = None, api_key_env: str = defaults.API_KEY_ENV,
                 video_mode: str = "frames", key: str | None = None, seed: int = 0,
                 timeout_s: float = defaults.REQUEST_TIMEOUT_S, adapter: str | None = None, device: str | None = None,
                 dtype: str | None = None) -> Backend:
    """`openai:NAME`, `blind:NAME`, `hf:PATH_OR_ID` (needs the hf extra), `random`, `prior` (needs `key`)."""
    from mabench.models.baselines import PriorBackend, RandomBackend
    from mabench.models.openai_compat import OpenAICompatBackend

    kind, _, name = spec.partition(":")
    if kind == "random" and not name:
        return RandomBackend(seed)
    if kind == "prior" and not name:
        if not key:
            raise ValueError("--model prior needs --prior-key BENCH_WITH_ANSWERS")
        return PriorBackend(key)
    if kind in ("openai", "blind") and name:
        if not base_url:
            raise ValueError(f"--model {spec} needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        return OpenAICompatBackend(name, base_url, api_key_env, video_mode, blind=kind == "blind",
                                   timeout_s=timeout_s)
    if kind == "hf" and name:
        from mabench.models.hf import HFBackend

        return HFBackend(name, adapter=adapter, device=device, dtype=dtype)
    if adapter:
        raise ValueError("--adapter applies to hf: models only")
    raise ValueError(f"unknown model spec {spec!r}; expected openai:NAME, blind:NAME, hf:PATH, random or prior")


__all__ = ["Backend", "BackendError", "EndpointError", "GenerationConfig", "Request", "Response", "make_backend"]
