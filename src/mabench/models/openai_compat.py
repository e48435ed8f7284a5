"""Any model behind an OpenAI-compatible chat-completions endpoint (vLLM, SGLang, LMDeploy, APIs).

The API key is read from an environment variable at start-up and lives only in the client; it
is never part of `describe()`, a log line or an error message.
"""

from __future__ import annotations

import base64
import inspect
import json
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from mabench import defaults
from mabench.models.base import BackendError, EndpointError, Example, Request, Response

DEFAULT_API_KEY_ENV = defaults.API_KEY_ENV
MEDIA_CACHE_CLIPS = 8  # clips whose encoded frames are kept (only the clips in flight are needed)
_POST_TAKES_CONTENT = "content" in inspect.signature(openai.AsyncOpenAI.post).parameters
DEFAULT_TIMEOUT_S = defaults.REQUEST_TIMEOUT_S
PROBE_TIMEOUT_S = 10.0
VIDEO_MODES = ("frames", "video")
# A 500 that comes back with the same message when the same request is asked again is the server
# failing on this request every time, not a passing fault (vLLM: a chat template without image
# tokens, "Failed to apply prompt replacement"; a clip path it cannot open): it is not retried again.
# Other 5xx (502, 503, 504: proxies, overload) are always retried.
REPEATED_500_MEMORY = 1024  # requests whose last 500 is remembered (only those being retried matter)


def _retry_after(err: openai.APIStatusError) -> float | None:
    value = err.response.headers.get("retry-after") if err.response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class OpenAICompatBackend:
    def __init__(self, model: str, base_url: str | None = None, api_key_env: str = DEFAULT_API_KEY_ENV,
                 video_mode: str = "frames", blind: bool = False, timeout_s: float = DEFAULT_TIMEOUT_S):
        if video_mode not in VIDEO_MODES:
            raise ValueError(f"unknown video mode {video_mode!r}; expected one of {', '.join(VIDEO_MODES)}")
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.video_mode = "none" if blind else video_mode
        self.blind = blind
        self.needs_frames = not blind and video_mode == "frames"
        self.name = f"blind:{model}" if blind else f"openai:{model}"
        self.timeout_s = timeout_s
        # Local servers accept any key; hosted APIs need the real one from the environment.
        api_key = os.environ.get(api_key_env) or "EMPTY"
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s,
                                         http_client=_http_client())
        self._media_cache: OrderedDict[int, tuple[Any, str]] = OrderedDict()
        self._last_500: OrderedDict[tuple[str, str], str] = OrderedDict()

    def describe(self) -> dict[str, Any]:
        return {"backend": "blind" if self.blind else "openai", "model": self.model,
                "base_url": self.base_url, "api_key_env": self.api_key_env, "video_mode": self.video_mode}

    def _where(self) -> str:
        return self.base_url or str(self.client.base_url)

    async def probe(self) -> None:
        """Fail fast, in one line, when the endpoint is unreachable or does not serve the model."""
        where = self._where()
        try:
            raw = await self.client.with_options(timeout=PROBE_TIMEOUT_S).models.with_raw_response.list()
            body = raw.http_response.text
        except openai.AuthenticationError:
            raise EndpointError(f"{where} rejected the API key; set ${self.api_key_env} to a valid key") from None
        except openai.APITimeoutError as err:
            if _connection_failure(err) is not None:  # aiohttp reports a refused connection as a timeout
                raise EndpointError(f"cannot reach {where}; start the server or fix --base-url") from None
            raise EndpointError(
                f"{where}/models did not answer within {PROBE_TIMEOUT_S:.0f} s; is the server still loading the "
                "model? wait for it to answer, or check --base-url") from None
        except openai.APIConnectionError:
            raise EndpointError(
                f"cannot reach {where}; start the server or fix --base-url") from None
        except openai.APIStatusError as err:
            if err.status_code in (404, 405, 501):
                return  # no /models on this server: the first request will tell
            raise EndpointError(f"{where}/models answered HTTP {err.status_code}; check --base-url") from None
        ids = model_ids(body)
        if ids is None:
            raise EndpointError(
                f"{where}/models answered something that is not a model list ({_short(body, 60)!r}); is --base-url "
                "the OpenAI-compatible API of the server (it usually ends in /v1)?")
        if ids and self.model not in ids:
            shown = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
            raise EndpointError(f"{where} does not serve model {self.model!r}; it serves: {shown}")

    def _media_json(self, req: Request) -> str:
        """JSON text of the request's image / video parts, made once per clip, not per question."""
        if self.video_mode != "frames" or req.frames is None:
            return ",".join(json.dumps(p, ensure_ascii=False) for p in self._content(req)[:-1])
        key = id(req.frames)
        hit = self._media_cache.get(key)
        if hit is not None and hit[0] is req.frames:
            self._media_cache.move_to_end(key)
            return hit[1]
        text = ",".join(json.dumps({"type": "image_url", "image_url": {"url": u}}) for u in req.frames.data_urls)
        self._media_cache[key] = (req.frames, text)
        while len(self._media_cache) > MEDIA_CACHE_CLIPS:
            self._media_cache.popitem(last=False)
        return text

    def _body_bytes(self, req: Request, params: dict[str, Any]) -> bytes:
        """The request body as bytes: the clip's media JSON spliced in, the rest encoded per question.
        Encoding 8 base64 frames is most of a request's client CPU; the 12 questions share it."""
        parts = [self._media_json(req), json.dumps({"type": "text", "text": req.question}, ensure_ascii=False)]
        user = '{"role":"user","content":[' + ",".join(p for p in parts if p) + "]}"
        messages = [json.dumps({"role": "system", "content": req.system_prompt}, ensure_ascii=False)] \
            if req.system_prompt or req.system_always else []
        messages += [json.dumps(m, ensure_ascii=False) for m in self._example_messages(req.examples)]
        messages.append(user)
        head = json.dumps(params, ensure_ascii=False)
        return (head[:-1] + ',"messages":[' + ",".join(messages) + "]}").encode("utf-8")

    def _content(self, req: Request | Example) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = []
        if self.video_mode == "frames" and req.frames is not None:
            content += [{"type": "image_url", "image_url": {"url": u}} for u in req.frames.data_urls]
        elif self.video_mode == "video" and req.video_path is not None:
            content.append({"type": "video_url", "video_url": {"url": video_url(req.video_path)}})
        content.append({"type": "text", "text": req.question})
        return content

    def _example_messages(self, examples: tuple[Example, ...]) -> list[dict[str, Any]]:
        """Few-shot examples as earlier turns: each its own media and question, then its answer."""
        out: list[dict[str, Any]] = []
        for ex in examples:
            out.append({"role": "user", "content": self._content(ex)})
            out.append({"role": "assistant", "content": ex.answer})
        return out

    async def generate(self, req: Request) -> Response:
        params: dict[str, Any] = {"model": self.model, "max_tokens": req.gen.max_tokens}
        if req.gen.temperature is not None:
            params["temperature"] = req.gen.temperature
        if req.gen.seed is not None:
            params["seed"] = req.gen.seed
        if req.gen.top_p is not None:
            params["top_p"] = req.gen.top_p
        params.update(req.gen.extra_body)
        # The SDK's generic `post` (its documented way to reach any endpoint) sends the body as
        # is; `chat.completions.create` would first walk every message part against its
        # TypedDicts (8 ms of CPU per request with 8 frames) and re-encode the frames each time.
        if _POST_TAKES_CONTENT:
            call: dict[str, Any] = {"content": self._body_bytes(req, params),
                    "options": {"headers": {"Content-Type": "application/json"}}}
        else:  # older SDKs: a dict body
            messages: list[dict[str, Any]] = []
            if req.system_prompt or req.system_always:
                messages.append({"role": "system", "content": req.system_prompt})
            messages += self._example_messages(req.examples)
            messages.append({"role": "user", "content": self._content(req)})
            call = {"body": {**params, "messages": messages}}
        t0 = time.perf_counter()
        try:
            completion = await self.client.post("/chat/completions", cast_to=ChatCompletion, **call)
        except openai.APIConnectionError as err:  # APITimeoutError is a subclass: told apart below
            refused = _connection_failure(err)
            if refused is not None:
                raise BackendError(f"connection failed: {refused}", retryable=True, kind="connection") from None
            if isinstance(err, openai.APITimeoutError):
                raise BackendError(f"timed out after {self.timeout_s:.0f} s", retryable=True,
                                   kind="timeout") from None
            raise BackendError(f"connection failed: {type(err.__cause__ or err).__name__}", retryable=True,
                               kind="connection") from None
        except openai.APIStatusError as err:
            code = err.status_code
            retryable = code in (408, 409, 429) or code >= 500
            message = f"HTTP {code}: {_short(err.message)}"
            if code == 500 and self._repeated_500(req, message):
                retryable, message = False, f"{message} (the same error again: not retried)"
            raise BackendError(message, retryable=retryable, retry_after=_retry_after(err), kind="status",
                               status=code) from None
        except (ValueError, TypeError) as err:  # a body that is not JSON
            raise BackendError(f"malformed reply: {_short(str(err))}", retryable=True) from None
        latency = time.perf_counter() - t0
        self._last_500.pop((req.qid, req.question), None)
        text = _message_text(completion)
        if text is None:
            raise BackendError("malformed reply: not a chat completion with a message", retryable=True)
        usage = getattr(completion, "usage", None)
        usage = usage.model_dump(exclude_none=True) if usage is not None else None
        return Response(text, usage, latency)

    def _repeated_500(self, req: Request, message: str) -> bool:
        """True when this request's previous attempt got the same HTTP 500 message."""
        key = (req.qid, req.question)
        repeated = self._last_500.pop(key, None) == message
        if not repeated:
            self._last_500[key] = message
            while len(self._last_500) > REPEATED_500_MEMORY:
                self._last_500.popitem(last=False)
        return repeated

    async def aclose(self) -> None:
        await self.client.close()


def _http_client() -> Any:
    """aiohttp transport when installed (the SDK's own advice for concurrency: less CPU per request
    than its default connection pool at 16 in flight), else the SDK's default."""
    try:
        return openai.DefaultAioHttpClient()
    except (RuntimeError, AttributeError, ImportError):
        return None


def _connection_failure(err: BaseException) -> str | None:
    """What broke, when the server could not be reached or dropped the connection; else None.

    The aiohttp transport reports a refused connection as a *connect timeout* (httpx.ConnectTimeout
    around aiohttp's ClientConnectorError around ConnectionRefusedError), so the class alone would
    record a dead server as "timed out after 120 s"; the chain of causes tells the truth."""
    chain: list[BaseException] = []
    cur: BaseException | None = err
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    for e in chain:  # the OS's own words when there are any: "Connection refused"
        if isinstance(e, ConnectionError):
            return os.strerror(e.errno).lower() if e.errno else type(e).__name__
    for e in chain:
        if type(e).__name__ in ("ClientConnectorError", "ServerDisconnectedError", "ClientOSError", "ConnectError",
                                "RemoteProtocolError", "ReadError"):
            return type(e).__name__
    return None


def _message_text(completion: Any) -> str | None:
    try:
        choices = completion.choices
        if not choices:
            return None
        content = choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        return None
    if isinstance(content, str):
        return content
    if content is None:
        # some reasoning servers put everything in reasoning_content and leave content empty
        extra = getattr(choices[0].message, "reasoning_content", None)
        return "" if extra is None else f"<think>{extra}</think>"
    return None


def model_ids(body: str) -> list[str] | None:
    """The model ids of a `/models` reply (`{"data": [{"id": ...}, ...]}`); None when it is not one."""
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    data = obj.get("data") if isinstance(obj, dict) else None
    if not isinstance(data, list) or not all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in data):
        return None
    return [m["id"] for m in data]


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"


def video_url(path: Path, inline: bool = False) -> str:
    """`file://` URL (server must see the same disk, e.g. vLLM --allowed-local-media-path) or a data URL."""
    if inline:
        return "data:video/mp4;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return Path(path).resolve().as_uri()
