"""The speed gate: a faster runtime may not make worse decisions.

``gate(model, texts)`` scores the same texts with the candidate (the light int8 ONNX path by default)
and with the fp32 PyTorch model (the reference, at the window overlap its whorf.json records unless
``reference_overlap`` says otherwise) and compares the model-alone keep decisions (no must-keep
override, threshold plus the domain bias):

- ``agreement``: fraction of words with the same keep decision (required >= 0.99);
- ``exact_keep_pct_drop``: mean exact_keep_pct of the reference's model-alone output minus the
  candidate's (required <= 0.005).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

MIN_AGREEMENT = 0.99
MAX_EXACT_KEEP_DROP = 0.005


@dataclass
class GateResult:
    candidate: str
    reference: str
    rows: int
    words: int
    agreement: float
    exact_keep_pct_reference: float
    exact_keep_pct_candidate: float
    exact_keep_pct_drop: float
    passed: bool

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (f"gate {verdict}: {self.candidate} vs {self.reference} on {self.rows} rows ({self.words} words): "
                f"keep-decision agreement {self.agreement:.4f} (>= {MIN_AGREEMENT}), model-alone exact_keep_pct "
                f"{self.exact_keep_pct_reference:.4f} -> {self.exact_keep_pct_candidate:.4f} "
                f"(drop {self.exact_keep_pct_drop:+.4f}, <= {MAX_EXACT_KEEP_DROP})")


def compare(candidate, reference, texts: Sequence[str]) -> GateResult:
    """Gate numbers for two loaded compressors on ``texts``: their word models alone, word by word."""
    from whorf.eval.metrics import exact_keep_pct

    texts = [t for t in texts if t and t.strip()]
    cand, ref = candidate.words_alone(texts), reference.words_alone(texts)
    same = total = 0
    keep_ref, keep_cand = [], []
    for text, c, r in zip(texts, cand, ref):
        same += sum(a.kept == b.kept for a, b in zip(c.words, r.words))
        total += len(c.words)
        keep_ref.append(exact_keep_pct(text, r.text))
        keep_cand.append(exact_keep_pct(text, c.text))
    agreement = same / total if total else 1.0
    ek_ref = float(np.mean(keep_ref)) if keep_ref else 1.0
    ek_cand = float(np.mean(keep_cand)) if keep_cand else 1.0
    drop = ek_ref - ek_cand
    return GateResult(candidate.runtime.name, reference.runtime.name, len(texts), total, round(agreement, 6),
                      round(ek_ref, 6), round(ek_cand, 6), round(drop, 6),
                      agreement >= MIN_AGREEMENT and drop <= MAX_EXACT_KEEP_DROP)


def open_compressor(model, runtime: str, onnx_dir: str | Path | None = None):
    """A compressor on ``runtime``; for an ONNX runtime the model's graph is exported first when it has
    none (into ``onnx_dir``, else the user cache). Needs torch for that export."""
    from whorf import light, registry
    from whorf.compressor import Compressor
    from whorf.onnx_export import graph_for

    directory = registry.find(str(model)) if isinstance(model, (str, Path)) else None
    if runtime not in ("onnx", "onnx-int8") or (runtime == "onnx-int8" and light.valid_graph(directory) and not onnx_dir):
        return Compressor(model, runtime=runtime, onnx_dir=onnx_dir)
    from whorf import model as modeling

    loaded = modeling.load(directory) if directory else model
    graph = graph_for(loaded, directory, Path(onnx_dir) if onnx_dir else None, int8=runtime == "onnx-int8")
    return Compressor(loaded if directory is None else model, runtime=runtime, onnx_dir=graph.parent)


def gate(model: str | Path = "whorf-micro", texts: Sequence[str] = (), runtime: str = "onnx-int8",
         reference_loaded=None, reference_overlap: float | None = None, onnx_dir: str | Path | None = None) -> GateResult:
    """Candidate ``runtime`` of ``model`` against its fp32 torch model on ``texts`` (held-out rows).

    Needs torch (the reference). ``reference_loaded`` reuses an already loaded ``whorf.model.Loaded``.
    """
    from whorf.compressor import Compressor

    candidate = open_compressor(model, runtime, onnx_dir)
    if reference_loaded is None:
        from whorf import model as modeling
        from whorf import registry

        directory = registry.find(str(model))
        reference_loaded = modeling.load(directory)
    reference = Compressor(reference_loaded, runtime="torch")
    if reference_overlap is not None:
        reference.scorer.overlap = reference_overlap
    return compare(candidate, reference, texts)


def teacher_gate(model: str | Path, teacher: str | Path, texts: Sequence[str], runtime: str = "onnx-int8") -> GateResult:
    """A student's candidate ``runtime`` against its teacher's fp32 torch model: the decisions a user
    gets by switching from the teacher to the student's fast path."""
    from whorf import model as modeling
    from whorf import registry
    from whorf.compressor import Compressor

    candidate = open_compressor(model, runtime)
    reference = Compressor(modeling.load(registry.find(str(teacher))), runtime="torch")  # at the teacher's overlap
    result = compare(candidate, reference, texts)
    result.reference = f"teacher {teacher} (torch fp32)"
    return result


def held_out_texts(paths: Sequence[str | Path], limit: int | None = None, held_out_pct: int = 10) -> list[str]:
    """Texts of the fixed held-out split of these data files (whorf.data's hash split)."""
    from whorf import data

    rows, _ = data.read_all(list(paths))
    texts = [r.text for r in rows if r.held_out(held_out_pct)]
    return texts[:limit] if limit else texts
