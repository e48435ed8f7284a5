"""A small, real OpenAI-compatible chat-completions server for tests, benchmarks and dry runs.

It listens on 127.0.0.1, answers `GET /v1/models` and `POST /v1/chat/completions`, and can be told
to wait, fail with 429 / 500, hang, or send replies that are not chat completions. Answers are a
deterministic function of the request content (same question + same frames -> same answer), or
come from a key file (`--key`) for an oracle that is always right.

    python -m mabench.testing.openai_server --port 8011 --latency 0.05
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_OPTION = re.compile(r"^([A-G])\.\s", re.MULTILINE)


@dataclass
class Behaviour:
    model: str = "test-model"
    latency_s: float = 0.0
    fail_first: int = 0  # per distinct request: this many 429s before answering
    fail_status: int = 429
    retry_after: float | None = 0.0
    always_status: int | None = None  # every completion fails with this status
    # ... and this message; "{attempt}" becomes the request's attempt number (a fault that changes)
    status_message: str = "server error"
    hang: bool = False  # never answer completions
    fail_if: str = ""  # completions whose user text contains this fail with fail_status (every attempt)
    record_bodies: bool = False  # keep each completion request's whole JSON body (to compare two clients)
    garbage: bool = False  # 200 OK with a body that is not a chat completion
    models_endpoint: bool = True
    # Serve only under /v1 (as vLLM does): a --base-url without /v1 gets 404 for everything.
    v1_only: bool = False
    # What GET /v1/models answers instead of the model list (raw bytes: HTML, `{}`, `null`, ...).
    models_body: bytes | None = None
    models_hang: bool = False  # GET /v1/models never answers (a server still loading)
    key: dict[str, str] = field(default_factory=dict)  # question text -> answer (oracle mode)
    reply_prefix: str = ""  # e.g. "<think>...</think>" to exercise extraction
    reply_padding: int = 0  # this many characters of rambling before the answer (a runaway model)
    # Judge requests (system prompt of mabench's rubric judge): the n-th attempt for the same
    # request gets judge_replies[n-1] (the last one repeats); empty = JSON scores from the digest.
    judge_replies: list[str] = field(default_factory=list)
    judge_offset: int = 0  # shifts the digest-derived judge scores (a second, disagreeing judge)
    # Caption rewrite requests (system prompt of mabench's rewriter): "faithful" rephrases and keeps
    # every fact, "flip" swaps up/down, "drop" loses the last sentence before the label line.
    rewrite: str = "faithful"
    # Question paraphrase requests (system prompt of mabench's rephraser): "faithful" rewords and keeps every
    # fact, "flip" swaps before/after (or up/down): a changed meaning the fact check must reject.
    paraphrase: str = "faithful"
    # Digest images by their decoded pixels, not their URL bytes: a harness that re-encodes the same
    # frames (lmms-eval sends PNG) then gets the answers `mabench eval` gets with JPEG.
    digest_pixels: bool = False
    # answer as `mabench.testing.stamps.StampModel` does: by the stamps the frames carry (a model whose reliance on
    # the frames is known)
    stamp_model: Any = None
    # Prompt-strategy checks (`_shaped_reply`): with `key`, answer right only when the request has the
    # shape of this strategy ("cot", "definitions", "fewshot:K"), wrong otherwise.
    shape: str | None = None
    random_answers: bool = False  # every completion a random valid answer (a model that guesses)
    count_tokens: bool = False  # usage from the request's size (4 characters a token, 256 an image)


class _State:
    def __init__(self, behaviour: Behaviour, log_path: Path | None):
        self.b = behaviour
        self.lock = threading.Lock()
        self.attempts: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115

    def record(self, row: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(row)
            if self.log:
                self.log.write(json.dumps(row) + "\n")
                self.log.flush()


def _text_of(content: Any) -> str:
    """A message's text: a string, or the text parts of a content list (harnesses send both)."""
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return content if isinstance(content, str) else ""


def _pixels(url: str) -> bytes:
    """The decoded RGB pixels of a data URL (the URL itself when it is not a decodable image)."""
    import base64
    import io

    from PIL import Image

    try:
        img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")
    except Exception:  # noqa: BLE001 - not an image: digest what was sent
        return url.encode()
    return f"{img.size}".encode() + img.tobytes()


def _frames_of(media: list[str]) -> list:
    """The RGB frames a request carries: its images, or every frame of its video (a local file URL)."""
    import base64
    import io
    from urllib.parse import unquote, urlparse

    import numpy as np
    from PIL import Image

    frames = []
    for url in media:
        if url.startswith("data:image"):
            frames.append(np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")))
        elif url.startswith("file:"):
            from mabench.video.decode import decode_all

            frames += decode_all(unquote(urlparse(url).path))[0]
    return frames


def find_question(text: str, key: dict[str, str]) -> str | None:
    """The key's question that `text` is or ends with (harnesses wrap the question in their own text);
    the longest one when several fit."""
    if text in key:
        return text
    tail = text.rstrip()
    hits = [q for q in key if q.strip() and tail.endswith(q.rstrip())]
    return max(hits, key=len) if hits else None


def _answer(state: _State, body: dict[str, Any]) -> tuple[str, str]:
    """(answer text, content digest) for a chat request."""
    messages = body.get("messages") or []
    system = " ".join(_text_of(m.get("content")) for m in messages if m.get("role") == "system")
    texts, media = [], []
    for m in messages:
        if m.get("role") != "user":
            continue
        content = m.get("content")
        parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
        for p in parts:
            if p.get("type") == "text":
                texts.append(p.get("text", ""))
            elif p.get("type") in ("image_url", "video_url"):
                media.append(p[p["type"]]["url"])
    text = "\n".join(texts)
    if state.b.stamp_model is not None:
        return state.b.stamp_model.answer(text, _frames_of(media)), hashlib.sha256(
            (text + "".join(media)).encode()).hexdigest()
    question = find_question(text, state.b.key) if state.b.key else None
    h = hashlib.sha256((question or text).encode())
    for url in media:
        h.update(_pixels(url) if state.b.digest_pixels else url.encode())
    digest = h.hexdigest()
    if question is not None:
        return state.b.key[question], digest
    n = int(digest[:8], 16)
    letters = _OPTION.findall(text)
    if letters:
        return letters[n % len(letters)], digest
    if "Yes or No" in system or text.rstrip().endswith("?"):
        return ("Yes", "No")[n % 2], digest
    return f"The head moves down and up; sample {digest[:6]}.", digest


def answer_text(body: dict[str, Any]) -> str:
    """The text of the last user message."""
    user = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = user[-1].get("content", "") if user else ""
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if p.get("type") == "text")
    return str(content)


def _rewrite(prompt: str, mode: str) -> str:
    text = prompt.split("TEXT:\n", 1)[-1]
    body, _, label_line = text.partition("\n[Body part")
    label_line = f"\n[Body part{label_line}" if label_line else ""
    if mode == "flip":
        for a, b in (("upward", "downward"), ("leftward", "rightward"), ("to the left", "to the right")):
            body = body.replace(a, "@@").replace(b, a).replace("@@", b)
    elif mode == "drop":
        body = ". ".join(body.split(". ")[:-1]) + "."
    else:
        body = "As the video shows, " + body[:1].lower() + body[1:].replace(" moves ", " goes ")
    return body + label_line


def _paraphrase(prompt: str, mode: str) -> str:
    q = prompt.split("QUESTION:\n", 1)[-1].strip()
    if mode == "flip":
        pairs = (("before", "after"),) if re.search(r"\b(before|after)\b", q) else (("upward", "downward"),)
        for a, b in pairs:
            q = re.sub(rf"\b{a}\b", "@@", q)
            q = re.sub(rf"\b{b}\b", a, q).replace("@@", b)
        return q
    return "Looking at the video, " + q[:1].lower() + q[1:]


# --- prompt-strategy checks -----------------------------------------------------------------------

_RNG = random.Random(0)
_FINAL = "Final answer:"


def _media_of(message: dict[str, Any]) -> list[str]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [p[p["type"]]["url"] for p in content if p.get("type") in ("image_url", "video_url")]


def _has_shape(shape: str, body: dict[str, Any]) -> bool:
    """Whether the request has the shape strategy `shape` gives it."""
    messages = body.get("messages") or []
    system = " ".join(m["content"] for m in messages if m.get("role") == "system" and isinstance(m.get("content"), str))
    question = answer_text(body)
    if shape == "cot":
        return _FINAL in system and (body.get("max_tokens") or 0) > 64
    if shape == "definitions":
        letters = _OPTION.findall(question)
        block = "Coarse classes:" if len(letters) == 7 else "Fine labels:" if len(letters) == 5 else ""
        return "Conventions:" in system and block in system
    if shape.startswith("fewshot:"):
        k = int(shape.split(":")[1])
        turns = [m for m in messages if m.get("role") != "system"]
        if len(turns) != 2 * k + 1:
            return False
        final_media = _media_of(turns[-1])
        for user, assistant in zip(turns[:-1:2], turns[1:-1:2], strict=True):
            media = _media_of(user)
            # each example: its own frames and question, then a non-empty answer
            if user.get("role") != "user" or not media or media == final_media or not answer_text(
                    {"messages": [user]}).strip() or assistant.get("role") != "assistant" \
                    or not str(assistant.get("content") or "").strip():
                return False
        return True
    raise ValueError(f"unknown shape {shape!r}")


def _wrong(answer: str) -> str:
    if answer in ("Yes", "No"):
        return "No" if answer == "Yes" else "Yes"
    if len(answer) == 1 and answer.isalpha():
        return "B" if answer == "A" else "A"
    return "Nothing moves."


def _shaped_reply(state: _State, body: dict[str, Any]) -> str:
    """The reply in shape-check / random mode: right (from the key) only when the request has the
    strategy's shape; asked for "cot", it reasons first and names a wrong answer there, the right one
    on the last line, so only final-line extraction reads it right."""
    b = state.b
    question = answer_text(body)
    letters = _OPTION.findall(question)
    if b.random_answers:
        with state.lock:
            answer = _RNG.choice(letters) if letters else _RNG.choice(("Yes", "No"))
    else:
        right = b.key.get(question)
        if right is None:
            return "I do not know this question."
        answer = right if b.shape is not None and _has_shape(b.shape, body) else _wrong(right)
    if b.shape == "cot" and _has_shape("cot", body):
        return (f"The hands stay still and the head moves a little; at first sight the answer is {_wrong(answer)}. "
                f"Looking again at the early and late frames, that does not hold.\n{_FINAL} {answer}")
    return answer


def _usage(body: dict[str, Any], reply: str) -> dict[str, int]:
    """Token counts from the request's size: 4 characters a token, 256 tokens an image."""
    chars = images = 0
    for m in body.get("messages") or []:
        content = m.get("content")
        parts = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        for p in parts:
            if p.get("type") == "text":
                chars += len(p.get("text") or "")
            else:
                images += 1
    prompt, completion = chars // 4 + 256 * images, max(1, len(reply) // 4)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: _State  # set on the subclass made per server

    def log_message(self, *args: Any) -> None:  # quiet
        return

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes; without this, Nagle + delayed ACK add ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _outside_v1(self) -> bool:
        if self.state.b.v1_only and not self.path.startswith("/v1/"):
            self._send(404, {"detail": "Not Found"})
            return True
        return False

    def do_GET(self) -> None:  # noqa: N802
        b = self.state.b
        if self._outside_v1():
            return
        if self.path.rstrip("/").endswith("/models") and b.models_hang:
            time.sleep(3600)
            return
        if self.path.rstrip("/").endswith("/models") and b.models_body is not None:
            self._send(200, b.models_body, content_type="text/html" if b.models_body.startswith(b"<")
                       else "application/json")
        elif self.path.rstrip("/").endswith("/models") and b.models_endpoint:
            self._send(200, {"object": "list", "data": [{"id": b.model, "object": "model", "owned_by": "mabench"}]})
        else:
            self._send(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self._outside_v1():
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": "not found"}})
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._send(400, {"error": {"message": "invalid JSON"}})
            return
        st, b = self.state, self.state.b
        if body.get("model") != b.model:
            self._send(404, {"error": {"message": f"model {body.get('model')!r} not found", "type": "not_found"}})
            return
        answer, digest = _answer(st, body)
        user = [m for m in body.get("messages", []) if m.get("role") == "user"]
        parts = user[-1]["content"] if user and isinstance(user[-1].get("content"), list) else []
        st.record({
            "digest": digest,
            "images": sum(p.get("type") == "image_url" for p in parts),
            "video_urls": [p["video_url"]["url"][:200] for p in parts if p.get("type") == "video_url"],
            "has_auth": bool(self.headers.get("Authorization")),
            "extra": {k: v for k, v in body.items() if k not in ("messages", "model")},
            "system": next((m.get("content") for m in body.get("messages", []) if m.get("role") == "system"), None),
            "turns": len(body.get("messages", [])),
            "t": time.time(),
            **({"body": body} if b.record_bodies else {}),
        })
        with st.lock:
            st.attempts[digest] = st.attempts.get(digest, 0) + 1
            attempt = st.attempts[digest]
        if b.hang:
            time.sleep(3600)
            return
        if b.latency_s:
            time.sleep(b.latency_s)
        if b.fail_if and b.fail_if in answer_text(body):
            self._send(b.fail_status, {"error": {"message": "failed on purpose", "type": "server_error"}})
            return
        if b.always_status:
            self._send(b.always_status, {"error": {"message": b.status_message.format(attempt=attempt),
                                                   "type": "server_error"}})
            return
        if attempt <= b.fail_first:
            headers = {"Retry-After": str(b.retry_after)} if b.retry_after is not None else {}
            self._send(b.fail_status, {"error": {"message": "rate limited", "type": "rate_limit"}}, headers)
            return
        if b.garbage:
            self._send(200, {"hello": "this is not a chat completion"})
            return
        system = " ".join(_text_of(m.get("content")) for m in body.get("messages", []) if m.get("role") == "system")
        # the rewriter and the judge are served as such in every mode: a strategy check can judge its cells
        if "caption rewriter" in system:
            text = _rewrite(answer_text(body), b.rewrite)
        elif "question rephraser" in system:
            text = _paraphrase(answer_text(body), b.paraphrase)
        elif "strict grader" in system:
            if b.judge_replies:
                text = b.judge_replies[min(attempt, len(b.judge_replies)) - 1]
            else:
                n = int(digest[8:16], 16)
                vals = [min(5, (n >> (4 * i)) % 5 + b.judge_offset) for i in range(3)]
                text = json.dumps({"L1": vals[0], "L2": vals[1], "L3": vals[2], "reason": "test judge"})
        elif b.shape is not None or b.random_answers:
            text = _shaped_reply(st, body)
        else:
            pad = ("I keep thinking about the head. " * (b.reply_padding // 32 + 1))[:b.reply_padding]
            text = b.reply_prefix + pad + ("\nAnswer: " if pad and len(answer) <= 3 else "") + answer
        self._send(200, {
            "id": f"chatcmpl-{digest[:12]}", "object": "chat.completion", "created": int(time.time()),
            "model": b.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": _usage(body, text) if b.count_tokens else
            {"prompt_tokens": 100, "completion_tokens": 1, "total_tokens": 101},
        })


class _Server(ThreadingHTTPServer):
    # the default backlog of 5 drops simultaneous connects (1 s SYN retry) at --concurrency 16
    request_queue_size = 256


class FakeOpenAIServer:
    """Start with `with FakeOpenAIServer(Behaviour(...)) as srv:`; `srv.base_url` ends in /v1."""

    def __init__(self, behaviour: Behaviour | None = None, port: int = 0, log_path: Path | None = None):
        self.state = _State(behaviour or Behaviour(), log_path)
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.httpd = _Server(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread: threading.Thread | None = None

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.state.requests

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--model", default="test-model")
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--key", type=Path, help="benchmark with answers: answer every question right")
    ap.add_argument("--log", type=Path)
    ap.add_argument("--digest-pixels", action="store_true",
                    help="answer by the frames' decoded pixels, so re-encoded frames get the same answers")
    ap.add_argument("--stamps", type=Path, help="a built benchmark whose clips carry stamps (mabench.testing.stamps): "
                    "answer as a model that reads them; with --stamp-numbers")
    ap.add_argument("--stamp-numbers", type=Path, help="JSON: clip name -> its stamp number")
    ap.add_argument("--stamp-mode", default="reads", help="reads (the frames' order decides) | ignores (the text)")
    args = ap.parse_args()
    key = {}
    if args.key:
        from mabench.data import load_benchmark

        key = {q.question: q.answer for q in load_benchmark(args.key) if q.answer is not None}
    stamp_model = None
    if args.stamps:
        from mabench.testing.stamps import StampModel

        stamp_model = StampModel(json.loads(args.stamps.read_text(encoding="utf-8")),
                                 json.loads(args.stamp_numbers.read_text(encoding="utf-8")), args.stamp_mode)
    srv = FakeOpenAIServer(Behaviour(model=args.model, latency_s=args.latency, fail_first=args.fail_first, key=key,
                                     digest_pixels=args.digest_pixels, stamp_model=stamp_model),
                           args.port, args.log)
    print(f"listening on {srv.base_url}", flush=True)
    try:
        srv.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
