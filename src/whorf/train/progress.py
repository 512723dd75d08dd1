"""The training progress bar (rich): epoch, steps, loss, tokens per second, time left."""

from __future__ import annotations


class TrainProgress:
    def __init__(self, console, total: int, state: dict):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TextColumn("loss {task.fields[loss]:.4f}"), TextColumn("{task.fields[tps]:.0f} tok/s"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console,
        )
        self.task = self.progress.add_task("train", total=total, completed=state["global_step"], epoch=state["epoch"] + 1,
                                           loss=0.0, tps=0.0)

    def __enter__(self) -> "TrainProgress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def log(self, record: dict) -> None:
        self.progress.update(self.task, loss=record["loss"], tps=record["tokens_per_s"])

    def step(self, epoch: int) -> None:
        self.progress.update(self.task, advance=1, epoch=epoch)
