"""Defaults in one place: the CLI's options and the Python API read them from here.

Numbers that shape frames live with their rule in `video.sampling` (named constants at the top of
that file, as qwen-vl-utils does); the ones here are the run-time settings users tune.
"""

from __future__ import annotations

import os

# --- endpoints and requests (eval, judge, rewrite) ---------------------------------------------
API_KEY_ENV = "OPENAI_API_KEY"  # the variable holding the key; the key itself is never written anywhere
# One request. A video request (8 frames at 640 px, an 8B model) takes 1-5 s on one GPU and tens of
# seconds queued behind a full batch; 120 s is room for that, not for a server that stalled. Timeouts
# count toward MAX_CONNECTION_FAILURES, so a stalled server stops a run within about
# REQUEST_TIMEOUT_S x (MAX_RETRIES + 1) plus the backoff, not after every question.
REQUEST_TIMEOUT_S = 120.0
MAX_RETRIES = 4  # on timeouts, 429 and 5xx
BACKOFF_BASE_S = 1.0  # first retry delay; doubles, jittered
BACKOFF_MAX_S = 30.0
RETRY_AFTER_MAX_S = 120.0  # a server's Retry-After is honoured up to this
CONCURRENCY = 16  # requests in flight
JUDGE_CONCURRENCY = CONCURRENCY
REWRITE_CONCURRENCY = 8

# --- eval runs ---------------------------------------------------------------------------------
# questions in a row that get no answer (refused, reset, timed out) stop the run (0: never)
MAX_CONNECTION_FAILURES = 20
# A run (or judge pass) whose failed requests exceed this share of those asked ends non-zero, its scores
# marked partial and no submission written: numbers resting on a tenth fewer answers say little.
MAX_ERROR_SHARE = 0.1
MAX_OUTPUT_BYTES = 64 * 1024  # raw model reply kept per answer
MAX_TOKENS = 1024
FRAME_CACHE_MB = 16.0  # in-memory LRU of decoded clips

# --- frames ------------------------------------------------------------------------------------
EVAL_MAX_SIDE = 640  # eval frames are downscaled to this longest side (and EVAL_MAX_PIXELS)
EVAL_MAX_PIXELS = 640 * 480
# `mabench train` on clips it samples itself (a corpus without frames) keeps a smaller side (memory per LoRA
# step); a corpus's own frames are eval's unless --max-side is given. The model's own resize follows either way.
TRAIN_MAX_SIDE = 448

# --- local work --------------------------------------------------------------------------------
WORKERS = max(1, min(4, os.cpu_count() or 1))  # processes for synth / annotate / build
# A clip whose annotate worker has not answered after this long is stopped and recorded as an error (a decoder
# that blocks for good: a pipe with no writer, a network mount that stopped answering). A 2-3 s MA-52 clip takes
# 1-3 CPU-s; this leaves room for clips minutes long on a loaded machine.
CLIP_TIMEOUT_S = 600.0
