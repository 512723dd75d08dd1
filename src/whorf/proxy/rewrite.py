"""Find the tool outputs inside an LLM API request body, and splice replacements into the client's bytes.

Anthropic ``POST /v1/messages``: ``tool_result`` blocks in user messages, whose ``content`` is a string
or a list of blocks (only ``text`` blocks are compressed). OpenAI ``POST /v1/chat/completions``:
``role: "tool"`` messages whose ``content`` is a string or a list of ``text`` parts. Tool names come from
the assistant's earlier ``tool_use`` blocks / ``tool_calls``.

Any other shape (a number where a list was expected, a list as an id, ...) is skipped, never an error:
the finders only yield what they recognise. Each slot carries its JSON path; :func:`splice` replaces
exactly those string tokens in the raw body and keeps every other byte the client sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from whorf.proxy.feedback import asked

Path = tuple  # keys and indices from the body's root to one string value


@dataclass
class Slot:
    """One tool output: its text, the tool that produced it, where it sits in the body, and the agent's
    intent when it called the tool (the query: the last user text and the assistant's text before the call,
    less every word of the tool's name and input: a command's own words are not evidence of what matters)."""

    text: str
    tool: str | None
    path: Path
    query: str | None = None
    call: str | None = None  # the tool call's id: it names this output's place in one conversation
    asks: tuple[str, ...] = ()  # handles its tool call asked back (``whorf retrieve whorf:…``): an original
    command: str | None = None  # its tool call's input (the command line), as text


MAX_QUERY_CHARS = 2000


# what a client puts into the user's turn on its own (Claude Code's <system-reminder> with today's date, the
# open files, the todo list): not what the user asked, so never evidence
_INJECTED = re.compile(r"<(system-reminder|system|context|env|environment_context|user_instructions)>.*?</\1>", re.S)


def _query(*parts: Any) -> str | None:
    try:
        text = " ".join(_INJECTED.sub(" ", _words_of(p)) for p in parts if p)
    except RecursionError:  # a tool input nested beyond reason: no intent from it
        text = " ".join(p for p in parts if isinstance(p, str))
    return text[-MAX_QUERY_CHARS:] or None


def _intent(asked: str | None, command: str | None) -> str | None:
    """What the user and the assistant asked, without the words of the tool call itself: the command chose
    its output, so its own words say nothing about which part of that output matters."""
    if not asked:
        return None
    from whorf.structure.relevance import terms

    given = set(terms(command or ""))
    kept = [w for w in asked.split() if not given.intersection(terms(w))]
    return " ".join(kept) or None


def _words_of(value: Any) -> str:
    """The text of one part of the intent: a tool's input by its values only (its keys, ``cmd`` or
    ``command``, name the tool's schema, not what the agent looks for); a JSON string is read as JSON."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and len(stripped) < 100_000:
            try:
                return _words_of(json.loads(stripped))
            except (ValueError, RecursionError):
                return value
        return value
    if isinstance(value, dict):
        return " ".join(_words_of(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_words_of(v) for v in value)
    return "" if value is None or isinstance(value, bool) else str(value)


def _texts(content: Any) -> str:
    """The plain text of a message's content (a string, or its text blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text"
                        and isinstance(b.get("text"), str))
    return ""


def _content_slots(content: Any, path: Path, tool: str | None, query: str | None = None,
                   call: Any = None) -> list[Slot]:
    call = call if isinstance(call, str) else None
    if isinstance(content, str):
        return [Slot(content, tool, path, query, call)]
    slots: list[Slot] = []
    if isinstance(content, list):
        for i, block in enumerate(content):
            if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
                slots.append(Slot(block["text"], tool, path + (i, "text"), query, call))
    return slots


def _messages(body: Any):
    """(index, message) for every message of the body that is an object."""
    messages = body.get("messages") if isinstance(body, dict) else None
    for m, message in enumerate(messages if isinstance(messages, list) else []):
        if isinstance(message, dict):
            yield m, message


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class _Calls:
    """The tool calls seen so far: each call id's tool name and the agent's intent when it made the call."""

    calls: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    user: str = ""  # the last user text
    asks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # call id -> handles it asked back
    commands: dict[str, str] = field(default_factory=dict)  # call id -> its input as text

    def add(self, call_id: Any, tool: Any, said: str, arguments: Any) -> None:
        if isinstance(call_id, str):
            self.calls[call_id] = (_name(tool), _intent(_query(self.user, said), _query(tool, arguments)))
            try:
                command = arguments if isinstance(arguments, str) else json.dumps(arguments, default=str)
            except (ValueError, RecursionError):
                command = ""
            self.commands[call_id] = f"{_name(tool)}:{command[:2000]}"
            handles = asked(command)
            if handles:
                self.asks[call_id] = handles

    def mark(self, slots: list[Slot]) -> list[Slot]:
        """``slots`` with the handles each one's call asked back."""
        for slot in slots:
            slot.asks = self.asks.get(slot.call, ()) if slot.call else ()
            slot.command = self.commands.get(slot.call) if slot.call else None
        return slots

    def of(self, call_id: Any) -> tuple[str | None, str | None]:
        return self.calls.get(call_id, (None, None)) if isinstance(call_id, str) else (None, None)


def anthropic_slots(body: dict) -> list[Slot]:
    seen, slots = _Calls(), []
    for m, message in _messages(body):
        said = _texts(message.get("content"))
        if message.get("role") == "user" and said.strip():
            seen.user = said
        if not isinstance(message.get("content"), list):
            continue
        for b, block in enumerate(message["content"]):
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use":
                seen.add(block.get("id"), block.get("name"), said if message.get("role") == "assistant" else "",
                         block.get("input"))
            elif block.get("type") == "tool_result":
                tool, query = seen.of(block.get("tool_use_id"))
                slots.extend(_content_slots(block.get("content"), ("messages", m, "content", b, "content"), tool,
                                            query, block.get("tool_use_id")))
    return seen.mark(slots)


def openai_slots(body: dict) -> list[Slot]:
    seen, slots = _Calls(), []
    for m, message in _messages(body):
        if message.get("role") == "user" and _texts(message.get("content")).strip():
            seen.user = _texts(message.get("content"))
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            if isinstance(call, dict):
                function = call.get("function") if isinstance(call.get("function"), dict) else {}
                seen.add(call.get("id"), function.get("name"), _texts(message.get("content")), function.get("arguments"))
        if message.get("role") == "tool":
            tool, query = seen.of(message.get("tool_call_id"))
            tool = _name(message.get("name")) or tool
            slots.extend(_content_slots(message.get("content"), ("messages", m, "content"), tool, query,
                                        message.get("tool_call_id")))
    return seen.mark(slots)


_CALLS = {"function_call", "custom_tool_call"}
_OUTPUTS = {"function_call_output", "custom_tool_call_output"}


def responses_slots(body: dict) -> list[Slot]:
    """The OpenAI Responses API: ``function_call_output`` / ``custom_tool_call_output`` items of ``input``
    (a string output, or its text parts); the tool and its arguments come from the matching call item."""
    items = body.get("input") if isinstance(body, dict) else None
    seen, slots, said = _Calls(), [], ""
    for m, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        kind, role = item.get("type"), item.get("role")
        if role in ("user", "assistant") and kind in (None, "message"):
            text = _response_texts(item.get("content"))
            if role == "user" and text.strip():
                seen.user = text
            said = text if role == "assistant" else said
        elif kind in _CALLS:
            seen.add(item.get("call_id"), item.get("name"), said, item.get("arguments", item.get("input")))
        elif kind in _OUTPUTS:
            tool, query = seen.of(item.get("call_id"))
            slots.extend(_response_output(item.get("output"), ("input", m, "output"), tool, query, item.get("call_id")))
    return seen.mark(slots)


def _response_texts(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
                        and b.get("type") in ("input_text", "output_text", "text"))
    return ""


def _response_output(output: Any, path: Path, tool: str | None, query: str | None, call: Any) -> list[Slot]:
    call = call if isinstance(call, str) else None
    if isinstance(output, str):
        return [Slot(output, tool, path, query, call)]
    slots = []
    for i, part in enumerate(output if isinstance(output, list) else []):
        if isinstance(part, dict) and part.get("type") in ("input_text", "output_text", "text") \
                and isinstance(part.get("text"), str):
            slots.append(Slot(part["text"], tool, path + (i, "text"), query, call))
    return slots


FINDERS = {"anthropic": anthropic_slots, "openai": openai_slots, "responses": responses_slots}

# --- byte-preserving replacement -------------------------------------------------------------------

from whorf.lexicon import JSON_WS as _WS
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_SCALAR = re.compile(r"[^,\]}\s]+")


def string_spans(text: str, wanted: set[Path]) -> dict[Path, tuple[int, int]]:
    """Character spans of the JSON values at ``wanted`` paths in ``text`` (already valid JSON).

    An iterative scanner (no recursion, linear time). Duplicate keys: the last one wins, as in ``json``.
    Works for any value (strings, containers, scalars); the root is the empty path.
    """
    lengths = {len(p) for p in wanted}
    spans: dict[Path, tuple[int, int]] = {}
    keys: list = []  # the current path
    kinds: list[str] = []  # "o" (object) or "a" (array) per level
    starts: list[tuple[Path | None, int]] = []  # per open container: its path if wanted, and where it began
    expect_key = False
    i, n = 0, len(text)

    def target() -> Path | None:
        return tuple(keys) if len(keys) in lengths and tuple(keys) in wanted else None

    while i < n:
        i = _WS.match(text, i).end()
        if i >= n:
            break
        c = text[i]
        if c == "{" or c == "[":
            starts.append((target(), i))
            kinds.append("o" if c == "{" else "a")
            keys.append(None if c == "{" else 0)
            expect_key = c == "{"
            i += 1
        elif c == "}" or c == "]":
            kinds.pop()
            keys.pop()
            path, start = starts.pop()
            if path is not None:
                spans[path] = (start, i + 1)
            expect_key = False
            i += 1
        elif c == ",":
            if kinds[-1] == "a":
                keys[-1] += 1
            expect_key = kinds[-1] == "o"
            i += 1
        elif c == ":":
            expect_key = False
            i += 1
        elif c == '"':
            end = _STRING.match(text, i).end()
            if expect_key:
                keys[-1] = json.loads(text[i:end])
            elif (path := target()) is not None:
                spans[path] = (i, end)
            i = end
        else:
            end = _SCALAR.match(text, i).end()
            if (path := target()) is not None:
                spans[path] = (i, end)
            i = end
    return spans


def append_items(raw: bytes, path: Path, items: list) -> bytes:
    """``raw`` with ``items`` appended to the JSON array at ``path`` (the rest of the bytes unchanged)."""
    text = raw.decode("utf-8")
    span = string_spans(text, {path}).get(path)
    if span is None or text[span[0]] != "[":
        raise ValueError("no array at that path")
    inner = text[span[0] + 1:span[1] - 1]
    added = ",".join(json.dumps(item, ensure_ascii=False) for item in items)
    sep = "," if inner.strip() else ""
    return (text[:span[1] - 1] + sep + added + text[span[1] - 1:]).encode("utf-8")


def insert_key(raw: bytes, key: str, value) -> bytes:
    """``raw`` (a JSON object) with ``key`` added first; the rest of the bytes unchanged."""
    text = raw.decode("utf-8")
    start = text.index("{")
    rest = text[start + 1:]
    sep = "," if rest.strip() != "}" else ""
    return (text[:start + 1] + json.dumps(key) + ":" + json.dumps(value, ensure_ascii=False) + sep + rest).encode("utf-8")


def splice(raw: bytes, replacements: dict[Path, str]) -> bytes:
    """``raw`` with the strings at the given paths replaced; every other byte as the client sent it."""
    if not replacements:
        return raw
    text = raw.decode("utf-8")
    spans = string_spans(text, set(replacements))
    if set(spans) != set(replacements):
        raise ValueError("a tool output was not found where the parsed body has it")
    out: list[str] = []
    at = 0
    for path, (start, end) in sorted(spans.items(), key=lambda item: item[1][0]):
        out.append(text[at:start])
        out.append(json.dumps(replacements[path], ensure_ascii=False))
        at = end
    out.append(text[at:])
    return "".join(out).encode("utf-8")
