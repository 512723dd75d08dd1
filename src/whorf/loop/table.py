"""The generation table (``loop.md``) and the plot of the metrics across generations."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _f(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def write_table(state: dict, out: Path) -> None:
    gens = state["generations"]
    lines = ["# Self-labeling loop", "",
             "| gen | training labels | mk_in_ref | exact (override) | exact (model alone) | override_delta | keep_rate | sem_sim | heretic regressions | wall s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for g in gens:
        e = g["eval"]
        labels = g.get("labels") or {}
        regress = ", ".join(f"{r['prompt'][:30]} {r['old']:.3f}->{r['new']:.3f}" for r in g.get("regressions", [])) or "none"
        lines.append(f"| {g['generation']} | {g.get('source', 'start model')} | {_f(labels.get('mk_in_ref'))} | {_f(e['exact_keep_pct'])} "
                     f"| {_f(e['exact_keep_pct_model'])} | {_f(e['override_delta'])} | {_f(e['keep_rate'])} | {_f(e['sem_sim'])} "
                     f"| {regress} | {_f(g.get('wall_seconds'))} |")
    lines += ["", f"Converged: {'yes' if state.get('converged') else 'no'}. Best generation (by evaluation): {state.get('best')}.", "",
              "![metrics across generations](loop.png)", ""]
    (out / "loop.md").write_text("\n".join(lines))
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = [g["generation"] for g in gens]
    for key, label in (("exact_keep_pct_model", "exact_keep_pct (model alone)"), ("override_delta", "override_delta"),
                       ("keep_rate", "keep_rate"), ("sem_sim", "sem_sim")):
        ax.plot(xs, [g["eval"][key] for g in gens], marker="o", label=label)
    ax.plot(xs, [(g.get("labels") or {}).get("mk_in_ref") for g in gens], marker="s", linestyle="--", label="mk_in_ref (labels)")
    ax.set_xlabel("generation")
    ax.set_ylabel("value")
    ax.set_xticks(xs)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Self-labeling: metrics across generations")
    fig.tight_layout()
    fig.savefig(out / "loop.png", dpi=110)
    plt.close(fig)
