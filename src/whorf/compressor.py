"""The compressor: load once, compress many.

    text -> route (router.Route) -> structural plan (records, lines, blocks; markers for omissions): Planned
         -> score the words of what is left (prose, messages, code) -> decide (+ must-keep override)
         -> assemble -> Compressed (text, decisions, markers; omitted originals go to the store)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from whorf import domain as domains
from whorf import envelopes
from whorf import light, passthrough, registry, router, runtime as runtimes
from whorf import words as words_of
from whorf.config import CompressOptions, ModelConfig
from whorf.decide import decide
from whorf.doc import Doc
from whorf.patterns import Profile, load_profile
from whorf.phrases import chunk
from whorf.result import Compressed, Stats, WordDecision
from whorf.scoring import Scorer
from whorf.segment import Segmented, rebuild, segment
from whorf import structure
from whorf.structure import budget as budgets, relevance
from whorf.structure.plan import Plan, enveloped, whole
from whorf.store import Store

if TYPE_CHECKING:  # torch is imported only when a torch runtime or an export needs it
    from whorf import model as modeling

log = logging.getLogger("whorf")

class Compressor:
    """A loaded model plus a runtime. ``Compressor()`` loads the default model (whorf-micro)."""

    _store_obj: Store | None = None

    def __init__(
        self,
        model: str | Path | modeling.Loaded = registry.DEFAULT_MODEL,
        runtime: str | runtimes.Runtime = runtimes.AUTO,
        profile: str | None = None,
        batch_size: int = 16,
        onnx_dir: str | Path | None = None,
        threads: int | None = None,
    ):
        """``runtime="auto"`` runs the model's shipped int8 ONNX graph without torch when it has one
        (``whorf ship-onnx``), else torch fp32; ``"onnx"``/``"onnx-int8"`` need a graph in ``onnx_dir`` or
        the model directory (``whorf export-onnx``); a ``Runtime`` object is used as given. ``model`` is a
        name, a directory or a ``Loaded``. ``threads``: the ONNX session's inference threads (None: its own
        choice, all cores); batch workers run one each. The compressor never exports a graph itself."""
        given = None if isinstance(runtime, str) else runtime
        loaded = None if isinstance(model, (str, Path)) else model
        directory = registry.find(str(model)) if loaded is None else None
        shipped_graph = loaded is None and light.valid_graph(directory)
        name = given.name if given else runtimes.resolve(runtimes.check(runtime), shipped_graph)
        self.directory = directory
        if shipped_graph and (name == "onnx-int8" or (given and not name.startswith("torch"))):
            small = light.load(directory)  # the light path: tokenizers + onnxruntime only
            self.config: ModelConfig = small.config
            self.tokenizer = small.tokenizer
            self.model = None
            self.runtime: runtimes.Runtime = given or runtimes.OnnxRuntime(small.graph, name, threads)
        else:
            if loaded is None:
                from whorf import model as modeling

                loaded = modeling.load(directory) if directory else untrained_default()
            self.config = loaded.config
            self.tokenizer = loaded.tokenizer
            self.model = loaded.model
            self.runtime = given or self._runtime(name, loaded, onnx_dir, threads)
        self.profile: Profile = load_profile(profile or self.config.profile)
        self.scorer = Scorer(self.tokenizer, self.runtime, self.config.max_length, self.config.pooling, batch_size,
                             self.config.overlap)

    def _runtime(self, name: str, loaded: modeling.Loaded, onnx_dir: str | Path | None,
                 threads: int | None = None) -> runtimes.Runtime:
        if name.startswith("torch"):
            if threads:
                import torch

                torch.set_num_threads(threads)
            return runtimes.TorchRuntime(loaded.model, bf16=name == "torch-bf16")
        graph = runtimes.ONNX_FILES[name]
        for folder in (Path(onnx_dir) if onnx_dir else None, self.directory):
            if folder and (folder / graph).is_file() and (name == "onnx" or folder != self.directory
                                                         or light.valid_graph(folder)):
                return runtimes.OnnxRuntime(folder / graph, name, threads)
        raise ValueError(f"no {graph} for this model: export one with `whorf export-onnx --out DIR` and pass "
                         f"onnx_dir=DIR, or ship one into the model directory with `whorf ship-onnx`")

    @property
    def model_id(self) -> str:
        return self.config.name

    def compress(self, text: str | bytes, options: CompressOptions | None = None, **kwargs) -> Compressed:
        """Compress one text. Keyword arguments override fields of ``options`` (rate, threshold, ...)."""
        return self.compress_batch([text], options, **kwargs)[0]

    def words_alone(self, texts: Sequence[str | bytes], **kwargs) -> list[Compressed]:
        """The word model alone on every word of ``texts``: no structural stage, no must-keep override, no
        store. The one path the gate, the evaluation, calibration and training evaluation score through."""
        return self.compress_batch(texts, CompressOptions(override=False, structure=False, store=False), **kwargs)

    def compress_batch(
        self, texts: Sequence[str | bytes], options: CompressOptions | None = None,
        queries: Sequence[str | None] | None = None, **kwargs
    ) -> list[Compressed]:
        """Compress many texts; the words their structural plans leave share the model's batches.
        ``queries`` gives each text its own query (else ``options.query`` for all)."""
        opts = replace(options or CompressOptions(), **kwargs)
        if queries is not None and len(queries) != len(texts):
            raise ValueError(f"{len(queries)} queries for {len(texts)} texts")
        domains.check(opts.domain)
        started = time.perf_counter()
        results: list[Compressed | None] = [None] * len(texts)
        planned: list[Planned] = []
        for i, raw in enumerate(texts):  # stage 1: admitted, routed, planned
            text, reason = passthrough.admit(raw, opts)
            if reason:
                results[i] = self._passthrough(text, reason, opts)
            else:
                planned.append(_planned(i, text, queries[i] if queries is not None else opts.query, opts))
        scores = self._scored(planned)  # stage 2: the words the plans left, in shared batches
        for p, s in zip(planned, scores):  # stage 3: decided and rebuilt
            results[p.index] = self._finish(p.text, p.route.domain, p.plan, p.parts, s, opts)
            if p.floor and not p.plan.changed:
                results[p.index].stats.passthrough = p.floor
        self._save_omissions([r for r in results if r is not None and r.omissions], opts)
        elapsed = (time.perf_counter() - started) * 1000 / max(len(texts), 1)
        for r in results:
            r.stats.ms = round(elapsed, 3)
        return results  # type: ignore[return-value]

    def _scored(self, planned: list[Planned]) -> list[np.ndarray]:
        """Each planned text's word scores (empty where its plan left no words for the model)."""
        docs = [[w.text for seg in p.parts for w in seg.words] for p in planned]
        todo = [d for d in range(len(docs)) if docs[d]]
        scores = self.scorer.score([docs[d] for d in todo], [self.config.prefix(planned[d].route.domain) for d in todo]) \
            if todo else []
        by_doc = dict(zip(todo, scores))
        return [by_doc.get(d, np.zeros(0, dtype=np.float32)) for d in range(len(planned))]

    @property
    def store(self) -> Store:
        """Where omitted originals go (``whorf retrieve``); created on first use."""
        if self._store_obj is None:
            self._store_obj = Store()
        return self._store_obj

    @store.setter
    def store(self, value: Store) -> None:
        self._store_obj = value

    def _save_omissions(self, results: list[Compressed], opts: CompressOptions) -> None:
        if opts.store and results:
            self.store.put_many([o.original for r in results for o in r.omissions])

    def _stats(self, **kwargs) -> Stats:
        return Stats(model=self.model_id, model_trained=self.config.trained, runtime=self.runtime.name, **kwargs)

    def _passthrough(self, text: str, reason: str, opts: CompressOptions) -> Compressed:
        words = len(text.split())
        stats = self._stats(words=words, words_kept=words, passthrough=reason, override=opts.override)
        return Compressed(text, [], stats, original=text)

    def _finish(
        self, text: str, dom: str, plan: Plan, parts: list[Segmented], scores: np.ndarray, opts: CompressOptions
    ) -> Compressed:
        """Decide the words of the plan's ``words`` pieces, then assemble the output piece by piece."""
        decided = self._decide(dom, parts, scores, opts)
        # a generator: the saving floor reads it only when it is on
        dropped = (w.text for seg, _, _, keep in decided for w, k in zip(seg.words, keep) if not k)
        floor = passthrough.saving_floor(dropped, self.scorer.tokens.count, opts)
        if floor:
            decided = [(seg, s, must, np.ones(len(seg.words), dtype=bool)) for seg, s, must, _ in decided]
        out: list[str] = []
        decisions: list[WordDecision] = []
        pieces = iter(decided)
        kept_must = n_must = 0
        for piece in plan.pieces:
            if piece.kind != "words":
                out.append(text[piece.start:piece.end] if piece.kind == "keep" else piece.text)
                continue
            seg, s, must, keep = next(pieces)
            base_line = text.count("\n", 0, piece.start)
            out.append(rebuild(seg, keep.tolist(), opts.drop_marker))
            n_must += int(sum(must))
            kept_must += int(sum(1 for k, m in zip(keep, must) if k and m))
            decisions.extend(
                WordDecision(w.text, w.start + piece.start, w.end + piece.start, base_line + w.line, round(float(sc), 4),
                             bool(k), m)
                for w, sc, k, m in zip(seg.words, s.tolist(), keep.tolist(), must)
            )
        result_text = "".join(out)
        spans = _omitted_spans(plan)
        words: list[WordDecision] | words_of.StructuralWords = decisions
        if any(piece.kind != "words" for piece in plan.pieces):  # else every word is the model's already
            words = words_of.StructuralWords(text, decisions, spans, self.profile)  # built when asked for
        n = len(text.split())
        kept = n - words_of.words_in(text, spans) - sum(not d.kept for d in decisions)
        stats = self._finish_stats(text, result_text, (n, kept), plan, dom, opts, n_must, kept_must)
        if floor and not plan.changed:
            stats.passthrough = floor
        return Compressed(result_text, words, stats, original=text, omissions=plan.omissions, notes=plan.notes)

    def _decide(self, dom: str, parts: list[Segmented], scores: np.ndarray, opts: CompressOptions) -> list[tuple]:
        """(segmented piece, its word scores, must-keep flags, keep decisions) for each ``words`` piece."""
        threshold = (opts.threshold if opts.threshold is not None else self.config.threshold)
        threshold += self.config.domain_bias.get(dom, 0.0)
        out = []
        offset = 0  # into scores
        for seg in parts:
            s = scores[offset:offset + len(seg.words)]
            offset += len(seg.words)
            must = self.profile.must_keep(seg.words, seg.text)
            keep = decide(s, must, threshold=threshold, rate=opts.rate, override=opts.override, phrases=chunk(seg.words))
            out.append((seg, s, must, keep))
        return out

    def _finish_stats(self, text, result_text, counts, plan, dom, opts, n_must, kept_must) -> Stats:
        tokens_in = self.scorer.tokens.count(text.split())
        tokens_out = self.scorer.tokens.count(result_text.split())
        n, kept = counts
        return self._stats(
            words=n,
            words_kept=kept,
            word_keep_rate=round(kept / n, 4) if n else 1.0,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            keep_rate=round(tokens_out / tokens_in, 4) if tokens_in else 1.0,
            chars_in=len(text),
            chars_out=len(result_text),
            must_keep_words=n_must,
            must_keep_survival=round(kept_must / n_must, 4) if n_must else 1.0,
            domain=dom,
            structure=plan.structure if plan.changed else "",
            markers=len(plan.omissions),
            omitted_units=sum(o.count for o in plan.omissions),
            omitted_by_reason=_by_reason(plan),
            query_terms=list(plan.matched),
            mode="rate" if opts.rate is not None else "threshold",
            override=opts.override,
        )


@dataclass
class Planned:
    """One text after the structural stage: where it was routed, its plan, the ``words`` pieces segmented
    for the model, and why its prose stays whole (a gain floor) or None."""

    index: int
    text: str
    route: router.Route
    plan: Plan
    parts: list[Segmented]
    floor: str | None


def _planned(index: int, text: str, query, opts: CompressOptions) -> Planned:
    """Route and plan one admitted text: an agent's envelope is split off and put back byte for byte, the
    body decided by its own shape."""
    wrapped = envelopes.split(text) if opts.structure else None
    body = Doc(wrapped.body if wrapped else text)  # read once: the router and the plan share its lines
    routed = router.route(body, opts.domain)
    plan, floor = _plan(body, routed, query, budgets.chars(opts.budget_tokens, body.text), opts)
    if wrapped:
        plan = enveloped(plan, wrapped.header)
    parts = [segment(text[p.start:p.end]) for p in plan.pieces if p.kind == "words"]
    return Planned(index, text, routed, plan, parts, floor)


def _plan(doc: str | Doc, routed: router.Route, query, budget: int | None, opts: CompressOptions) -> tuple[Plan, str | None]:
    """The structural plan of one text, and why its prose stays whole (the gain floor) or None. The query
    budget holds only when the query matched one of the units it dropped among; otherwise the plan is made
    again under the normal budget."""
    doc = Doc.of(doc)
    text = doc.text
    if not opts.structure:
        return whole(text, routed.domain, "words"), None
    if isinstance(query, (bytes, bytearray)):
        query = bytes(query).decode("utf-8", "replace")
    query = query or None
    cap = _budget_for(text, query, budget, opts)
    plan = structure.plan_shape(doc, routed.shape, cap, query)
    if cap != budget and plan.omissions and not plan.matched:  # nothing dropped: the same plan either way
        plan = structure.plan_shape(doc, routed.shape, budget, query)
    floor = passthrough.prose_floor(text, plan, opts)
    if floor:  # every word stays; the stats say why
        plan.pieces = [replace(p, kind="keep") if p.kind == "words" else p for p in plan.pieces]
    return plan, floor


def _budget_for(text: str, query: str | None, budget: int | None, opts: CompressOptions) -> int | None:
    """The character budget of one text: the query budget when it is smaller and the query names a term
    of the text (a query that matches nothing behaves as no query)."""
    tight = budgets.chars(opts.query_budget_tokens, text)
    if tight is None or not query or (budget is not None and budget <= tight):
        return budget
    return tight if relevance.mentions(text, query) else budget


def _by_reason(plan: Plan) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in plan.omissions:
        out[o.reason or "unrecorded"] = out.get(o.reason or "unrecorded", 0) + o.count
    return out


def _omitted_spans(plan: Plan) -> list[tuple[int, int]]:
    return sorted((o.start, o.start + len(o.original)) for o in plan.omissions)


def untrained_default() -> modeling.Loaded:
    """The real MiniLM backbone with randomly initialised heads (seed 0), labelled untrained (needs torch)."""
    from whorf import model as modeling

    log.warning("whorf: no trained default model is installed; using an UNTRAINED head on MiniLM")
    return modeling.build(ModelConfig(name="whorf-untrained", lora=None, trained=False))


_DEFAULT: dict[tuple, Compressor] = {}


def compress(
    text: str | bytes,
    *,
    model: str = registry.DEFAULT_MODEL,
    runtime: str = "auto",
    rate: float | None = None,
    threshold: float | None = None,
    override: bool = True,
    domain: str | None = None,
    budget_tokens: int | None = CompressOptions.budget_tokens,
    query: str | None = None,
    query_budget_tokens: int | None = None,
) -> Compressed:
    """Compress one text with a cached Compressor for (model, runtime)."""
    key = (model, runtime)
    if key not in _DEFAULT:
        _DEFAULT[key] = Compressor(model, runtime)
    options = CompressOptions(rate=rate, threshold=threshold, override=override, domain=domain,
                              budget_tokens=budget_tokens, query=query, query_budget_tokens=query_budget_tokens)
    return _DEFAULT[key].compress(text, options)
