"""The compressor: load once, compress many.

    text -> segment -> detect domain -> score words -> decide (+ must-keep override) -> rebuild
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from whorf import domain as domains
from whorf import model as modeling
from whorf import registry, runtime as runtimes
from whorf.config import CompressOptions, ModelConfig
from whorf.decide import decide
from whorf.patterns import Profile, load_profile
from whorf.result import Compressed, Stats, WordDecision
from whorf.scoring import Scorer
from whorf.segment import Segmented, rebuild, segment
from whorf.textio import decode, has_surrogates

log = logging.getLogger("whorf")


class Compressor:
    """A loaded model plus a runtime. ``Compressor()`` loads the default model (whorf-mini)."""

    def __init__(
        self,
        model: str | Path | modeling.Loaded = registry.DEFAULT_MODEL,
        runtime: str = "torch",
        profile: str | None = None,
        batch_size: int = 16,
        onnx_dir: str | Path | None = None,
    ):
        runtimes.check(runtime)
        if isinstance(model, modeling.Loaded):
            loaded, directory = model, None
        else:
            directory = registry.find(str(model))
            loaded = modeling.load(directory) if directory else untrained_default()
        self.config: ModelConfig = loaded.config
        self.tokenizer = loaded.tokenizer
        self.model = loaded.model
        self.directory = directory
        self.profile: Profile = load_profile(profile or self.config.profile)
        self.runtime = self._runtime(runtime, loaded, onnx_dir)
        self.scorer = Scorer(self.tokenizer, self.runtime, self.config.max_length, self.config.pooling, batch_size)

    def _runtime(self, name: str, loaded: modeling.Loaded, onnx_dir: str | Path | None) -> runtimes.Runtime:
        if name.startswith("torch"):
            return runtimes.TorchRuntime(loaded.model, bf16=name == "torch-bf16")
        from whorf.onnx_export import ensure_onnx

        path = ensure_onnx(loaded, self.directory, Path(onnx_dir) if onnx_dir else None, int8=name == "onnx-int8")
        return runtimes.OnnxRuntime(path, name)

    @property
    def model_id(self) -> str:
        return self.config.name

    def compress(self, text: str | bytes, options: CompressOptions | None = None, **kwargs) -> Compressed:
        """Compress one text. Keyword arguments override fields of ``options`` (rate, threshold, ...)."""
        return self.compress_batch([text], options, **kwargs)[0]

    def compress_batch(
        self, texts: Sequence[str | bytes], options: CompressOptions | None = None, **kwargs
    ) -> list[Compressed]:
        """Compress many texts; their windows share batches."""
        opts = replace(options or CompressOptions(), **kwargs)
        domains.check(opts.domain)
        started = time.perf_counter()
        results: list[Compressed | None] = [None] * len(texts)
        todo: list[tuple[int, Segmented, str]] = []
        for i, raw in enumerate(texts):
            text, reason = self._admit(raw, opts)
            if reason:
                results[i] = self._passthrough(text, reason, opts)
                continue
            seg = segment(text)
            todo.append((i, seg, opts.domain or domains.detect(text)))
        if todo:
            prefixes = [self._prefix(d) for _, _, d in todo]
            scores = self.scorer.score([[w.text for w in seg.words] for _, seg, _ in todo], prefixes)
            for (i, seg, dom), s in zip(todo, scores):
                results[i] = self._finish(seg, dom, s, opts)
        elapsed = (time.perf_counter() - started) * 1000 / max(len(texts), 1)
        for r in results:
            r.stats.ms = round(elapsed, 3)
        return results  # type: ignore[return-value]

    def compress_iter(self, texts: Iterable[str], batch: int = 32, **kwargs) -> Iterable[Compressed]:
        chunk: list[str] = []
        for text in texts:
            chunk.append(text)
            if len(chunk) >= batch:
                yield from self.compress_batch(chunk, **kwargs)
                chunk = []
        if chunk:
            yield from self.compress_batch(chunk, **kwargs)

    def _admit(self, raw: str | bytes, opts: CompressOptions) -> tuple[str, str | None]:
        if isinstance(raw, (bytes, bytearray)):
            decoded = decode(bytes(raw))
            text, reason = decoded.text, decoded.passthrough
        elif isinstance(raw, str):
            text, reason = raw, ("invalid UTF-8 (surrogates)" if has_surrogates(raw) else None)
        else:
            raise TypeError(f"compress takes str or bytes, not {type(raw).__name__}")
        if reason:
            return text, reason
        if not text.strip():
            return text, "empty input"
        if len(text) > opts.max_chars:
            return text, f"input of {len(text)} characters is over max_chars={opts.max_chars}"
        return text, None

    def _prefix(self, domain: str) -> str:
        return self.config.domain_prefixes.get(domain, "") if self.config.use_domain_prefix else ""

    def _stats(self, **kwargs) -> Stats:
        return Stats(model=self.model_id, model_trained=self.config.trained, runtime=self.runtime.name, **kwargs)

    def _passthrough(self, text: str, reason: str, opts: CompressOptions) -> Compressed:
        words = len(text.split())
        stats = self._stats(words=words, words_kept=words, passthrough=reason, override=opts.override)
        return Compressed(text, [], stats, original=text)

    def _finish(self, seg: Segmented, dom: str, scores: np.ndarray, opts: CompressOptions) -> Compressed:
        must = self.profile.must_keep(seg.words, seg.text)
        threshold = (opts.threshold if opts.threshold is not None else self.config.threshold)
        threshold += self.config.domain_bias.get(dom, 0.0)
        keep = decide(scores, must, threshold=threshold, rate=opts.rate, override=opts.override)
        text = rebuild(seg, keep.tolist(), opts.drop_marker)
        words = [
            WordDecision(w.text, w.start, w.end, w.line, round(float(s), 4), bool(k), m)
            for w, s, k, m in zip(seg.words, scores, keep, must)
        ]
        all_words = [w.text for w in seg.words]
        tokens_in = self.scorer.tokens.count(all_words)
        tokens_out = self.scorer.tokens.count([w for w, k in zip(all_words, keep) if k])
        n_must = int(sum(must))
        kept_must = int(sum(1 for k, m in zip(keep, must) if k and m))
        n, kept = len(seg.words), int(keep.sum())
        stats = self._stats(
            words=n,
            words_kept=kept,
            word_keep_rate=round(kept / n, 4) if n else 1.0,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            keep_rate=round(tokens_out / tokens_in, 4) if tokens_in else 1.0,
            must_keep_words=n_must,
            must_keep_survival=round(kept_must / n_must, 4) if n_must else 1.0,
            domain=dom,
            mode="rate" if opts.rate is not None else "threshold",
            override=opts.override,
        )
        return Compressed(text, words, stats, original=seg.text)


def untrained_default() -> modeling.Loaded:
    """The real MiniLM backbone with randomly initialised heads (seed 0), labelled untrained."""
    log.warning("whorf: no trained default model is installed; using an UNTRAINED head on MiniLM")
    return modeling.build(ModelConfig(name="whorf-untrained", lora=None, trained=False))


_DEFAULT: dict[tuple, Compressor] = {}


def compress(
    text: str | bytes,
    *,
    model: str = registry.DEFAULT_MODEL,
    runtime: str = "torch",
    rate: float | None = None,
    threshold: float | None = None,
    override: bool = True,
    domain: str | None = None,
) -> Compressed:
    """Compress one text with a cached Compressor for (model, runtime)."""
    key = (model, runtime)
    if key not in _DEFAULT:
        _DEFAULT[key] = Compressor(model, runtime)
    options = CompressOptions(rate=rate, threshold=threshold, override=override, domain=domain)
    return _DEFAULT[key].compress(text, options)
