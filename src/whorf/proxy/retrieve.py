"""Give back what was cut: the ``whorf_retrieve`` tool (``whorf proxy --retrieve``).

Requests whose tool outputs went upstream compressed get one more tool, ``whorf_retrieve(handle)``.
Each compressed output ends with a line naming its handle; the structural stage's markers carry handles
too (``whorf:1f2e3d4c5b6a``). When the model calls the tool, the proxy answers from its store of originals
(then from :class:`whorf.store.Store`, where the structural stage keeps what its markers replaced),
appends the exchange to the request and asks upstream again (at most ``MAX_ROUNDS`` times); the client
only sees the final answer. All three APIs (Anthropic Messages, OpenAI chat completions and Responses),
streamed or not: upstream answers are read whole while retrieval is possible (a streamed answer is then
delivered at once, byte for byte as upstream sent it). A response that mixes ``whorf_retrieve`` with the
client's own tools is returned as it is. A Responses request that continues a stored response
(``previous_response_id``: the history lives upstream) continues the same way: the next round names the
response that asked for the original and carries only the answers.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

import httpx
from fastapi.responses import Response

from whorf.data.pairs import now
from whorf.proxy.rewrite import append_items, insert_key

TOOL_NAME = "whorf_retrieve"
MAX_ROUNDS = 3
_DESCRIPTION = ("Some tool outputs in this conversation were shortened; each names a handle like whorf:1f2e3d4c5b6a. "
                "Call this with a handle to get the full original text back.")
_SCHEMA = {"type": "object", "properties": {"handle": {"type": "string", "description": "a handle such as whorf:1f2e3d4c5b6a"}},
           "required": ["handle"]}
TOOLS = {"anthropic": {"name": TOOL_NAME, "description": _DESCRIPTION, "input_schema": _SCHEMA},
         "openai": {"type": "function", "function": {"name": TOOL_NAME, "description": _DESCRIPTION, "parameters": _SCHEMA}},
         "responses": {"type": "function", "name": TOOL_NAME, "description": _DESCRIPTION, "parameters": _SCHEMA}}
HISTORY = {"anthropic": "messages", "openai": "messages", "responses": "input"}  # where the exchange is appended


class Originals:
    """Whole originals by content-addressed handle: a small LRU in memory, the pair database behind it, and
    the local store too, so ``whorf retrieve`` finds every handle the model was shown."""

    def __init__(self, pairs, writer, memory: int = 256, store=None):
        from whorf.store import Store

        self.pairs = pairs
        self.writer = writer
        self.memory = memory
        self.store = store or Store()
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, original: str) -> str:
        from whorf.store import handle_of

        handle = handle_of(original)
        with self._lock:
            self._recent[handle] = original
            self._recent.move_to_end(handle)
            while len(self._recent) > self.memory:
                self._recent.popitem(last=False)
        self.writer.put("originals", [{"handle": handle, "original": original, "created_at": now()}])
        self.store.put(original)  # never raises: a broken store is skipped with a warning
        return handle

    def get(self, handle: str) -> str | None:
        handle = handle.strip()
        key = handle if handle.startswith("whorf:") else "whorf:" + handle
        with self._lock:
            if key in self._recent:
                return self._recent[key]
        try:
            found = self.pairs.get_original(key)
            if found is None:
                from whorf.store import Store

                found = Store().get(key)
            return found
        except Exception:  # noqa: BLE001 - an unknown handle, answered as such
            return None


def _sse_data(raw: bytes) -> list[dict]:
    events = []
    for chunk in raw.decode("utf-8", "replace").replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in chunk.split("\n") if line.startswith("data:"))
        if data and data != "[DONE]":
            try:
                events.append(json.loads(data))
            except ValueError:
                continue
    return events


def anthropic_turn(raw: bytes, streamed: bool) -> list[dict]:
    """The assistant's content blocks, from a whole response or its SSE events."""
    if not streamed:
        content = json.loads(raw).get("content")
        return content if isinstance(content, list) else []
    blocks: dict[int, dict] = {}
    partial: dict[int, str] = {}
    for ev in _sse_data(raw):
        i = ev.get("index")
        if ev.get("type") == "content_block_start":
            blocks[i] = dict(ev.get("content_block") or {})
        elif ev.get("type") == "content_block_delta" and i in blocks:
            delta = ev.get("delta") or {}
            if delta.get("type") == "text_delta":
                blocks[i]["text"] = blocks[i].get("text", "") + delta.get("text", "")
            elif delta.get("type") == "input_json_delta":
                partial[i] = partial.get(i, "") + delta.get("partial_json", "")
    for i, text in partial.items():
        blocks[i]["input"] = json.loads(text or "{}")
    return [blocks[i] for i in sorted(blocks)]


def openai_turn(raw: bytes, streamed: bool) -> dict:
    """The assistant message ``{content, tool_calls}``, from a whole response or its SSE chunks."""
    if not streamed:
        choices = json.loads(raw).get("choices") or [{}]
        return choices[0].get("message") or {}
    text, calls = "", {}
    for ev in _sse_data(raw):
        delta = ((ev.get("choices") or [{}])[0]).get("delta") or {}
        text += delta.get("content") or ""
        for call in delta.get("tool_calls") or []:
            slot = calls.setdefault(call.get("index", 0), {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
            slot["id"] = call.get("id") or slot["id"]
            function = call.get("function") or {}
            slot["function"]["name"] += function.get("name") or ""
            slot["function"]["arguments"] += function.get("arguments") or ""
    return {"role": "assistant", "content": text or None, "tool_calls": [calls[i] for i in sorted(calls)]}


def response_object(raw: bytes, streamed: bool) -> dict:
    """The Responses API's response: the whole answer, or the one its ``response.completed`` event carries."""
    if not streamed:
        found = json.loads(raw)
        return found if isinstance(found, dict) else {}
    for ev in reversed(_sse_data(raw)):
        if ev.get("type") == "response.completed" and isinstance(ev.get("response"), dict):
            return ev["response"]
    return {}


def responses_turn(raw: bytes, streamed: bool) -> list[dict]:
    """The response's output items."""
    output = response_object(raw, streamed).get("output")
    return output if isinstance(output, list) else []


def _handle_of_call(arguments) -> str:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return ""
    return str(arguments.get("handle", "")) if isinstance(arguments, dict) else ""


def continuation(api: str, raw: bytes, streamed: bool, originals: Originals) -> tuple[list[dict], int] | None:
    """Messages answering the model's ``whorf_retrieve`` calls (and how many), or None when it made none."""
    def answer(handle: str) -> str:
        found = originals.get(handle) if handle else None
        return found if found is not None else f"unknown handle {handle!r}: nothing stored under it"

    if api == "responses":
        items = [i for i in responses_turn(raw, streamed) if isinstance(i, dict)]
        calls = [i for i in items if i.get("type") in ("function_call", "custom_tool_call")]
        if not calls or any(c.get("name") != TOOL_NAME for c in calls):
            return None
        results = [{"type": "function_call_output", "call_id": c.get("call_id"),
                    "output": answer(_handle_of_call(c.get("arguments")))} for c in calls]
        kept = [{k: v for k, v in i.items() if k != "status"} for i in items if i.get("type") != "message" or i.get("content")]
        return kept + results, len(calls)
    if api == "anthropic":
        blocks = anthropic_turn(raw, streamed)
        uses = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_use"]
        if not uses or any(b.get("name") != TOOL_NAME for b in uses):
            return None
        assistant = [b for b in blocks if not (b.get("type") == "text" and not b.get("text"))]
        results = [{"type": "tool_result", "tool_use_id": b.get("id"), "content": answer(_handle_of_call(b.get("input")))} for b in uses]
        return [{"role": "assistant", "content": assistant}, {"role": "user", "content": results}], len(uses)
    message = openai_turn(raw, streamed)
    calls = message.get("tool_calls") or []
    if not calls or any((c.get("function") or {}).get("name") != TOOL_NAME for c in calls):
        return None
    assistant = {"role": "assistant", "content": message.get("content"), "tool_calls": calls}
    results = [{"role": "tool", "tool_call_id": c.get("id"), "content": answer(_handle_of_call((c.get("function") or {}).get("arguments")))}
               for c in calls]
    return [assistant] + results, len(calls)


def with_tool(api: str, body: bytes, data: dict) -> bytes | None:
    tools = data.get("tools")
    if tools is None:
        return insert_key(body, "tools", [TOOLS[api]])
    if not isinstance(tools, list):
        return None
    names = {t.get("name") or (t.get("function") or {}).get("name") for t in tools if isinstance(t, dict)}
    return body if TOOL_NAME in names else append_items(body, ("tools",), [TOOLS[api]])


async def answer_with_retrieval(proxy, api: str, target: httpx.URL, headers: list, rewrite) -> Response | None:
    """Forward with the retrieval tool and answer its calls; None to forward the request normally."""
    if not rewrite.compressed:
        return None
    try:
        data = json.loads(rewrite.body)
        chained = api == "responses" and bool(data.get("previous_response_id"))
        if api == "responses" and not chained and not isinstance(data.get("input"), list):
            return None
        body = with_tool(api, rewrite.body, data)
    except (ValueError, UnicodeError):
        return None
    if body is None:
        return None
    streamed = data.get("stream") is True
    for _ in range(MAX_ROUNDS + 1):
        request = proxy.client.build_request("POST", target, headers=headers, content=body)
        try:
            response = await proxy.client.send(request)
        except httpx.HTTPError as exc:
            from whorf.proxy.guard import error_response

            return error_response(target.path, 502, "api_error", f"whorf proxy: upstream unreachable ({type(exc).__name__})")
        if response.status_code != 200:
            break
        try:
            more = continuation(api, response.content, streamed, proxy.originals)
        except (ValueError, AttributeError, TypeError, KeyError):
            more = None
        if more is None:
            break
        messages, calls = more
        proxy.stats.add(retrievals=calls)
        body = chain(body, response_object(response.content, streamed).get("id"), messages) if chained \
            else append_items(body, (HISTORY[api],), messages)
    return buffered(response)


def chain(body: bytes, response_id, items: list[dict]) -> bytes:
    """The next round of a stored conversation: the same request, continuing ``response_id`` with only the
    answers to its calls (the calls themselves are in the stored response)."""
    data = json.loads(body)
    data["previous_response_id"] = response_id
    data["input"] = [i for i in items if i.get("type") == "function_call_output"]
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def buffered(response: httpx.Response) -> Response:
    skip = {"content-length", "transfer-encoding", "connection", "content-encoding"}
    out = Response(content=response.content, status_code=response.status_code)
    out.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items()
                       if k.lower() not in skip] + [(b"content-length", str(len(response.content)).encode())]
    return out
