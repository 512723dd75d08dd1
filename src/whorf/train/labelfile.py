"""``whorf label``: write inspectable labelled JSONL with per-file statistics (mk_in_ref, keep rate)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whorf.eval.metrics import mk_in_ref
from whorf import data as datasets
from whorf.data.labelled import label_rows


@dataclass
class FileStats:
    path: str
    rows: int
    labelled: int
    skipped: int
    not_labelled: int
    label_keep_rate: float
    must_keep_rate: float
    mk_in_ref: float | None  # pairs only

    def line(self) -> str:
        mk = f"{self.mk_in_ref:.3f}" if self.mk_in_ref is not None else "-"
        return (f"{self.path}: {self.labelled}/{self.rows} rows labelled ({self.skipped} bad lines skipped, "
                f"{self.not_labelled} without labels), label keep rate {self.label_keep_rate:.3f}, "
                f"must-keep words {self.must_keep_rate:.3f}, mk_in_ref {mk}")


def label_files(paths: list[str], out: str | Path | None, rule: str = "aligned", profile: str = "default") -> list[FileStats]:
    stats: list[FileStats] = []
    sink = Path(out).open("w") if out else None
    try:
        for path in paths:
            rows, report = datasets.read(path)
            items, failed = label_rows(rows, rule, profile)
            refs = [mk_in_ref(it.row.text, it.row.reference) for it in items if it.row.reference]
            for it in items:
                if sink:
                    sink.write(json.dumps({
                        "tokens": it.words, "labels": it.labels.keep, "must_keep": [int(m) for m in it.labels.must],
                        "domain": it.domain, "source": it.row.source, "file": Path(path).name, "line": it.row.line,
                    }) + "\n")
            stats.append(FileStats(
                path=str(path), rows=report.lines, labelled=len(items), skipped=len(report.skipped),
                not_labelled=len(failed),
                label_keep_rate=float(np.mean([it.labels.keep_rate for it in items])) if items else 0.0,
                must_keep_rate=float(np.mean([np.mean(it.labels.must) for it in items])) if items else 0.0,
                mk_in_ref=float(np.mean(refs)) if refs else None,
            ))
    finally:
        if sink:
            sink.close()
    return stats
