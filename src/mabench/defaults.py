"""Defaults in one place: the CLI's options and the Python API read them from here.

Numbers that shape frames live with their rule in `video.sampling` (named constants at the top of
that file, as qwen-vl-utils does); the ones here are the run-time settings users tune.
"""

from __future__ import annotations

import os

# --- endpoints and requests (eval, judge, rewrite) ---------------------------------------------
API_KEY_ENV = "OPENAI_API_KEY"  # the variable holding the key; the key itself is never written anywhere
REQUEST_TIMEOUT_S = 120.0  # one request
MAX_RETRIES = 4  # on timeouts, 429 and 5xx
BACKOFF_BASE_S = 1.0  # first retry delay; doubles, jittered
BACKOFF_MAX_S = 30.0
RETRY_AFTER_MAX_S = 120.0  # a server's Retry-After is honoured up to this
CONCURRENCY = 16  # requests in flight
JUDGE_CONCURRENCY = CONCURRENCY
REWRITE_CONCURRENCY = 8

# --- eval runs ---------------------------------------------------------------------------------
MAX_CONNECTION_FAILURES = 20  # questions in a row that cannot reach the server stop the run (0: never)
MAX_OUTPUT_BYTES = 64 * 1024  # raw model reply kept per answer
MAX_TOKENS = 1024
FRAME_CACHE_MB = 16.0  # in-memory LRU of decoded clips

# --- frames ------------------------------------------------------------------------------------
EVAL_MAX_SIDE = 640  # eval frames are downscaled to this longest side (and EVAL_MAX_PIXELS)
EVAL_MAX_PIXELS = 640 * 480
# Training keeps a smaller side (memory per LoRA step); the model's own resize follows either way.
TRAIN_MAX_SIDE = 448

# --- local work --------------------------------------------------------------------------------
WORKERS = max(1, min(4, os.cpu_count() or 1))  # processes for synth / annotate / build
