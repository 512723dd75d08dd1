"""Find the tool outputs inside an LLM API request body, and put compressed text back in their place.

Anthropic ``POST /v1/messages``: ``tool_result`` blocks in user messages, whose ``content`` is a string
or a list of blocks (only ``text`` blocks are compressed). OpenAI ``POST /v1/chat/completions``:
``role: "tool"`` messages whose ``content`` is a string or a list of ``text`` parts. Tool names come from
the assistant's earlier ``tool_use`` blocks / ``tool_calls``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Slot:
    """One tool output: its text, the tool that produced it, and how to write a replacement back."""

    text: str
    tool: str | None
    write: Callable[[str], None]


def _text_setter(container: dict, key: str) -> Callable[[str], None]:
    def write(value: str) -> None:
        container[key] = value

    return write


def _content_slots(content: Any, holder: dict, tool: str | None) -> list[Slot]:
    if isinstance(content, str):
        return [Slot(content, tool, _text_setter(holder, "content"))]
    slots: list[Slot] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
                slots.append(Slot(block["text"], tool, _text_setter(block, "text")))
    return slots


def anthropic_slots(body: dict) -> list[Slot]:
    names: dict[str, str] = {}
    slots: list[Slot] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            continue
        for block in message["content"]:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                names[block["id"]] = str(block.get("name", ""))
            elif block.get("type") == "tool_result":
                slots.extend(_content_slots(block.get("content"), block, names.get(block.get("tool_use_id"))))
    return slots


def openai_slots(body: dict) -> list[Slot]:
    names: dict[str, str] = {}
    slots: list[Slot] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        for call in message.get("tool_calls") or []:
            if isinstance(call, dict) and isinstance(call.get("id"), str):
                names[call["id"]] = str((call.get("function") or {}).get("name", ""))
        if message.get("role") == "tool":
            tool = message.get("name") or names.get(message.get("tool_call_id"))
            slots.extend(_content_slots(message.get("content"), message, tool))
    return slots


FINDERS = {"anthropic": anthropic_slots, "openai": openai_slots}
