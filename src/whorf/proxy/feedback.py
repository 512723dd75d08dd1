"""What the model asked back, and the over-compression feedback it drives.

Every omission is one call away: a compressed output that left markers ends with one line naming the
shell command that prints an omitted part (``whorf retrieve HANDLE``, reading the local store the proxy
wrote), and under ``--retrieve`` the proxy's own ``whorf_retrieve`` tool answers too. Either way the proxy
sees the retrieval: a tool call whose input runs ``whorf retrieve`` (its output, the original, is never
compressed again) or a ``whorf_retrieve`` call it answered.

The proxy remembers, for each handle it showed, the tool and the shape (the structure module) of the
output it came from, and counts retrievals per ``tool/shape``. In one session, when the model has asked
back from one shape's outputs at least ``MIN_RETRIEVALS`` times and in more than ``SHARE`` of the outputs
of that shape it was shown compressed, the shape is *relaxed*: its later outputs in the session get the
normal budget (no query budget), and /stats says so.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

RETRIEVE = re.compile(r"\bwhorf\s+retrieve\s+['\"]?(whorf:[0-9a-f]{8,})")
SHARE = 0.25
MIN_RETRIEVALS = 2
MEMORY = 50_000  # handles and call ids remembered (oldest forgotten first)
MAX_SESSIONS = 1000


def hint(handles: list[str]) -> str:
    """The line a compressed output with markers ends with: how to get any omitted part back."""
    return f"[omitted parts print with: whorf retrieve {handles[0]}]" if handles else ""


def asked(arguments: str) -> tuple[str, ...]:
    """The handles a tool call's input asks back (``whorf retrieve whorf:…`` in a shell command)."""
    return tuple(dict.fromkeys(RETRIEVE.findall(arguments or "")))


@dataclass
class _Session:
    shown: dict = field(default_factory=dict)  # shape -> outputs shown compressed with markers
    back: dict = field(default_factory=dict)  # shape -> retrievals
    relaxed: set = field(default_factory=set)
    outputs: int = 0  # outputs compressed (first sightings)
    by_reason: dict = field(default_factory=dict)  # units omitted per reason
    terms: dict = field(default_factory=dict)  # query term -> outputs it singled units out in
    commands: dict = field(default_factory=dict)  # tool input -> tool calls that ran it
    calls: int = 0

    def report(self) -> dict:
        reruns = sum(n - 1 for n in self.commands.values())
        return {"outputs_compressed": self.outputs, "omitted_by_reason": dict(self.by_reason),
                "query_terms": sorted(self.terms, key=lambda t: -self.terms[t])[:20],
                "retrievals": sum(self.back.values()), "retrievals_by_shape": dict(self.back),
                "tool_calls": self.calls, "reruns": reruns,
                "rerun_rate": round(reruns / self.calls, 4) if self.calls else 0.0, "relaxed_shapes": sorted(self.relaxed)}


class Feedback:
    """Retrievals per tool and shape, and the shapes each session relaxed."""

    def __init__(self) -> None:
        self._origin: OrderedDict[str, tuple[str, str, str]] = OrderedDict()  # handle -> (session, tool, shape)
        self._sessions: dict[str, _Session] = {}
        self._counted: OrderedDict[str, None] = OrderedDict()  # call ids already counted
        self.by_tool_shape: dict[str, int] = {}
        self._lock = threading.Lock()

    def compressed(self, session: str, by_reason: dict, terms: list) -> None:
        """An output first seen in ``session`` was compressed: what went, per reason, on which terms."""
        with self._lock:
            s = self._session(session)
            s.outputs += 1
            for reason, n in by_reason.items():
                s.by_reason[reason] = s.by_reason.get(reason, 0) + n
            for t in terms:
                s.terms[t] = s.terms.get(t, 0) + 1

    def called(self, session: str, call: str | None, command: str | None) -> None:
        """A tool call seen for the first time; the same input run again in the session is a re-run (the
        agent read the output again, or could not trust what it got)."""
        with self._lock:
            key = f"run:{call}"
            if call is None or key in self._counted:
                return
            self._remember(key)
            s = self._session(session)
            s.calls += 1
            if command:
                s.commands[command] = s.commands.get(command, 0) + 1

    def _session(self, session: str) -> _Session:
        s = self._sessions.get(session)
        if s is None:
            if len(self._sessions) >= MAX_SESSIONS:
                self._sessions.pop(next(iter(self._sessions)))
            s = self._sessions[session] = _Session()
        return s

    def _remember(self, key: str) -> None:
        self._counted[key] = None
        while len(self._counted) > MEMORY:
            self._counted.popitem(last=False)

    def shown(self, session: str, tool: str | None, shape: str, handles: list[str]) -> None:
        """An output of ``shape`` went up compressed, its markers naming ``handles``."""
        if not handles:
            return
        with self._lock:
            s = self._session(session)
            s.shown[shape] = s.shown.get(shape, 0) + 1
            for h in handles:
                self._origin[h] = (session, tool or "?", shape)
                self._origin.move_to_end(h)
            while len(self._origin) > MEMORY:
                self._origin.popitem(last=False)

    def retrieved(self, call: str | None, handles: tuple[str, ...]) -> int:
        """The model asked ``handles`` back in tool call ``call`` (counted once per call); how many counted."""
        with self._lock:
            if not handles or (call is not None and call in self._counted):
                return 0
            if call is not None:
                self._remember(call)
            for h in handles:
                self._count(h)
            return len(handles)

    def _count(self, handle: str) -> None:
        session, tool, shape = self._origin.get(handle, ("?", "?", "unknown"))
        key = f"{tool}/{shape}"
        self.by_tool_shape[key] = self.by_tool_shape.get(key, 0) + 1
        s = self._sessions.get(session)
        if s is None:
            return
        s.back[shape] = s.back.get(shape, 0) + 1
        if s.back[shape] >= MIN_RETRIEVALS and s.back[shape] > SHARE * s.shown.get(shape, 0):
            s.relaxed.add(shape)

    def origins(self, handles: tuple[str, ...]) -> dict[str, tuple[str, str]]:
        """handle -> (tool, shape) of the output it was shown in ("?", "unknown" when not remembered)."""
        with self._lock:
            return {h: self._origin.get(h, ("?", "?", "unknown"))[1:] for h in handles}

    def relaxed(self, session: str) -> set[str]:
        with self._lock:
            s = self._sessions.get(session)
            return set(s.relaxed) if s else set()

    def snapshot(self) -> dict:
        with self._lock:
            return {"retrievals_by_tool_shape": dict(self.by_tool_shape),
                    "relaxed_shapes": {k: sorted(s.relaxed) for k, s in self._sessions.items() if s.relaxed},
                    "sessions": {k: s.report() for k, s in self._sessions.items()}}
