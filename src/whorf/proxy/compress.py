"""Compress the tool outputs of one request body: new outputs once, known ones in their recorded form.

The steps: parse the body (anything unexpected: forward it unchanged), find the tool outputs, look up
the form each one already went upstream in, compress only the new ones (in the worker process, under the
deadline), record the first decision per output, and splice the compressed strings into the client's
bytes. The proxy never fails a request because of compression: every error path returns the original.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from whorf.proxy.forms import COMPRESSED, ORIGINAL, Form, FormCache, form_key, options_key

# why an output went upstream original that says nothing about the output itself: such a decision holds for
# the conversation that received it (its history stays byte-stable), not for every later conversation
TRANSIENT = frozenset({"deadline", "shed", "failure", "bypass"})
from whorf.proxy.feedback import Feedback, hint
from whorf.data.pairs import now
from whorf.proxy.usage import session_key
from whorf.proxy.rewrite import FINDERS, Slot, splice


@dataclass
class Rewrite:
    """What :meth:`BodyCompressor.run` did to one body."""

    body: bytes
    data: dict | None = None  # the parsed body (None when it was not JSON we understand)
    compressed: list[str] = field(default_factory=list)  # form keys of the outputs sent compressed
    saved_new: int = 0  # tokens compression saved on outputs first seen in this request
    saved_reused: int = 0  # ... on outputs sent in their recorded form (already in the history)


class BodyCompressor:
    def __init__(self, config, worker, forms: FormCache, stats, writer=None, originals=None):
        self.config = config
        self.worker = worker
        self.forms = forms
        self.stats = stats
        self.writer = writer  # PairWriter or None
        self.originals = originals  # retrieval's store of originals, or None
        self.queued = 0
        self.inflight: dict[str, asyncio.Future] = {}
        self.options_key = options_key(config.options) + ("|retrieve" if config.retrieve else "") \
            + ("|hint" if config.retrieve_hint else "")
        self.feedback = Feedback()

    def key(self, text: str) -> str:
        return form_key(self.worker.model_id, self.options_key, text)

    async def run(self, raw: bytes, api: str, request_id: str, bypass: bool = False) -> Rewrite:
        try:
            data = json.loads(raw.decode("utf-8"))
            slots = FINDERS[api](data) if isinstance(data, dict) else []
        except (ValueError, RecursionError, UnicodeDecodeError, TypeError, AttributeError):
            self.stats.add(unparsed=1)
            return Rewrite(raw)
        session = session_key(data)
        for s in slots:  # the model asked an original back: count it; that output is never compressed
            self.feedback.called(session, s.call, s.command)
            if s.asks:
                self._retrieved(session, s)
        eligible = [s for s in slots if len(s.text) >= self.config.min_chars and s.tool not in self.config.exclude_tools
                    and not s.asks]
        if not eligible:
            self.stats.record(len(slots), [], 0.0, 0)
            return Rewrite(raw, data)
        started = time.perf_counter()
        keys = [self.key(s.text) for s in eligible]
        pins = {k: _pin(k, s) for k, s in zip(keys, eligible) if s.call}
        forms = await self._known(keys, pins)
        for k, s in zip(keys, eligible):  # over the size limit: never copied to the worker
            if forms.get(k) is None and len(s.text) > self.config.options.max_chars:
                forms[k] = self.forms.decide(k, Form(ORIGINAL, None, "passthrough"))
        new = {k: s for k, s in zip(keys, eligible) if forms.get(k) is None}
        fresh: dict[str, object] = {}
        mine: set[str] = set()
        if new:
            reason = "bypass" if bypass else None
            fresh, mine = await self._decide_new(new, reason, request_id, api, self.feedback.relaxed(session))
            forms.update({k: self._record(k, f, pins.get(k)) for k, f in self._forms_of(new, fresh, session).items()})
        ms = (time.perf_counter() - started) * 1000
        replacements, sent, keys_sent = {}, [], []
        for k, slot in zip(keys, eligible):
            form = forms[k]
            if form.kind == COMPRESSED and form.text is not None:
                replacements[slot.path] = form.text
                sent.append({"tokens_in": form.tokens_in, "tokens_out": form.tokens_out})
                keys_sent.append(k)
        new_items = [self._recent(new[k], fresh[k], request_id, api, ms, session) for k in new
                     if forms[k].kind == COMPRESSED and k in mine]  # logged by the request that compressed it
        self.stats.add(reused=len(keys) - len(new), new_outputs=len(new))
        self.stats.record(len(slots), sent, ms, 0, new=new_items)
        saved = {k: forms[k].tokens_in - forms[k].tokens_out for k in keys_sent}
        saved_new = sum(v for k, v in saved.items() if k in new)
        if bypass or not replacements:
            return Rewrite(raw, data, [])
        try:
            return Rewrite(splice(raw, replacements), data, keys_sent, saved_new, sum(saved.values()) - saved_new)
        except (ValueError, UnicodeError):
            self.stats.add(unparsed=1)
            return Rewrite(raw, data)

    async def _known(self, keys: list[str], pins: dict[str, str]) -> dict[str, Form | None]:
        """The form each output holds here: its conversation's own (a transient original), else the shared one."""
        def lookup() -> dict[str, Form | None]:
            return {k: (self.forms.get(pins[k]) if k in pins else None) or self.forms.get(k) for k in keys}

        return lookup() if self.forms.store is None else await asyncio.to_thread(lookup)

    def _record(self, key: str, form: Form, pin: str | None) -> Form:
        """Record the first decision: a transient original only for its conversation (when it has a call id)."""
        if form.kind == ORIGINAL and form.reason in TRANSIENT and pin is not None:
            return self.forms.decide(pin, form)
        return self.forms.decide(key, form)

    def _forms_of(self, new: dict[str, Slot], fresh: dict, session: str) -> dict[str, Form]:
        out = {}
        for k, slot in new.items():
            res = fresh.get(k)
            if isinstance(res, Form):
                out[k] = res
            elif res is None:
                out[k] = Form(ORIGINAL, None, "failure")
            elif res.passthrough:
                out[k] = Form(ORIGINAL, None, "passthrough")
            else:
                text = self._with_handle(res, slot.text)
                gain = len(text) < len(slot.text)
                if gain:
                    self.feedback.shown(session, slot.tool, res.shape, res.handles)
                out[k] = Form(COMPRESSED, text, "", res.tokens_in, res.tokens_out) if gain else Form(ORIGINAL, None, "no-gain")
        return out

    def _with_handle(self, res, original: str) -> str:
        """The compressed text with its way back: the retrieval tool's handle of the whole original (under
        ``--retrieve``), else, when markers omitted parts, the shell command that prints one."""
        if self.originals is not None:
            handle = self.originals.put(original)
            return f"{res.text}\n[shortened; full output: whorf_retrieve {handle}]"
        if self.config.retrieve_hint and res.handles:
            return f"{res.text}\n{hint(res.handles)}"
        return res.text

    async def _decide_new(self, new: dict[str, Slot], reason: str | None, request_id: str, api: str,
                          relaxed: set[str] = frozenset()) -> tuple[dict, set]:
        """Compress the new outputs (or record why not): key -> Outcome, or Form for an original; and the keys
        this request compressed itself (others were being compressed by a concurrent request)."""
        if reason is None and self.queued >= self.config.max_queue:
            reason = "shed"
            self.stats.add(shed=1)
        if reason:
            return {k: Form(ORIGINAL, None, reason) for k in new}, set()
        loop = asyncio.get_running_loop()
        mine = {k: s for k, s in new.items() if k not in self.inflight}
        theirs = {k: self.inflight[k] for k in new if k not in mine}
        for k in mine:
            self.inflight[k] = loop.create_future()
        deadline = self.config.deadline_ms / 1000
        self.queued += 1
        results: dict = {}
        try:
            if mine:
                future = self.worker.submit([s.text for s in mine.values()], self.config.options,
                                            words=self.config.log_pairs,  # every word's decision: training rows
                                            queries=[self._query(s, relaxed) for s in mine.values()])
                outcomes = await asyncio.wait_for(asyncio.wrap_future(future), timeout=deadline)
                results.update(zip(mine, outcomes))
        except asyncio.TimeoutError:
            self.stats.add(deadline_missed=1, failures=1)
            results.update({k: Form(ORIGINAL, None, "deadline") for k in mine})
        except Exception:  # noqa: BLE001 - a failed compression: the originals go upstream
            self.stats.add(failures=1)
            results.update({k: Form(ORIGINAL, None, "failure") for k in mine})
        finally:
            self.queued -= 1
            for k in mine:
                self.inflight.pop(k).set_result(results.get(k))
        for k, fut in theirs.items():
            try:
                results[k] = await asyncio.wait_for(asyncio.shield(fut), timeout=deadline)
            except asyncio.TimeoutError:
                results[k] = Form(ORIGINAL, None, "deadline")
        return results, {k for k in mine if not isinstance(results.get(k), Form)}

    def _retrieved(self, session: str, slot: Slot) -> None:
        """Count (once per tool call) the originals the model asked back by running ``whorf retrieve``."""
        counted = self.feedback.retrieved(slot.call, slot.asks)
        if not counted:
            return
        self.stats.add(retrievals=counted)
        if self.writer is not None and self.config.log_pairs:
            self.writer.put("retrievals", [{"created_at": now(), "session": session, "handle": h,
                                            "tool": tool, "shape": shape}
                                           for h, (tool, shape) in self.feedback.origins(slot.asks).items()])

    def _query(self, slot: Slot, relaxed: set[str]) -> str | None:
        """The query an output is compressed with: none with queries off, or when its shape was relaxed in
        this session (the model asked back what that shape omitted too often)."""
        if not self.config.queries or not slot.query:
            return None
        if relaxed and shape_of(slot.text) in relaxed:
            self.stats.add(relaxed_outputs=1)
            return None
        return slot.query

    def _recent(self, slot: Slot, res, request_id: str, api: str, ms: float, session: str) -> dict:
        omissions = {"by_reason": res.by_reason, "query_terms": res.query_terms, "handles": res.handles}
        self.feedback.compressed(session, res.by_reason, res.query_terms)
        item = {"time": time.time(), "request_id": request_id, "api": api, "tool": slot.tool, "domain": res.domain,
                "tokens_in": res.tokens_in, "tokens_out": res.tokens_out, "words": res.words,
                "session": session, "shape": res.shape, "markers": res.markers[:50], **omissions}
        if self.writer is not None and self.config.log_pairs:
            self.writer.put("pairs", [{
                "request_id": request_id, "created_at": now(), "api": api, "tool_name": slot.tool,
                "domain": res.domain, "model_id": res.model, "original": slot.text, "compressed": res.text,
                "tokens_in": res.tokens_in, "tokens_out": res.tokens_out, "ms": ms,
                "decisions": json.dumps(res.decisions), "query": slot.query, "session": session,
                "shape": res.shape or None, "omissions": json.dumps(omissions)}])
        return item



def shape_of(text: str) -> str:
    """The structure module an output goes to (what the compressor's router would say)."""
    from whorf.router import route

    return route(text).shape


def _pin(key: str, slot: Slot) -> str:
    """The form key of one output at its place in one conversation (its tool call's id)."""
    return f"{key}@{slot.call}"
