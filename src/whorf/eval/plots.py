"""PNG plots of a report: trade-off curves (keep_rate vs exact_keep_pct and vs sem_sim) and
per-domain bars."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLES = {
    "whorf": dict(color="#0b4f8a", marker="o", linewidth=2.2),
    "whorf (no override)": dict(color="#5aa0d8", marker="s", linestyle="--"),
    "head+tail lines": dict(color="#c0392b", marker="^", linestyle=":"),
    "random + override": dict(color="#7f8c8d", marker="x", linestyle="-."),
}
POINTS = {"identity": dict(color="black", marker="*", s=140), "must-keep regex only": dict(color="#e67e22", marker="D", s=70)}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def plot_report(report: dict, directory: Path) -> None:
    for ds in report["datasets"]:
        ds["plots"] = []
        if not ds.get("curves"):
            continue
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
        for ax, metric, label in ((axes[0], "exact_keep_pct_word", "exact_keep_pct_word (must-keep words kept whole)"),
                                  (axes[1], "sem_sim", "sem_sim (cosine, MiniLM)")):
            for name, points in ds["curves"].items():
                ax.plot([p["keep_rate"] for p in points], [p[metric] for p in points], label=name, **STYLES.get(name, {}))
            for name, style in POINTS.items():
                m = ds.get("systems", {}).get(name)
                if m:
                    ax.scatter([m["keep_rate"]], [m[metric]], label=name, zorder=5, **style)
            ax.set_xlabel("keep_rate (tokens kept / tokens in)")
            ax.set_ylabel(label)
            ax.set_xlim(0, 1.02)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="lower right")
        fig.suptitle(f"{ds['name']}: trade-off ({report['model']})")
        fig.tight_layout()
        name = f"{_slug(ds['name'])}-tradeoff.png"
        fig.savefig(directory / name, dpi=110)
        plt.close(fig)
        ds["plots"].append(name)
        if ds.get("domains"):
            domains = list(ds["domains"])
            fig, ax = plt.subplots(figsize=(max(5, 1.4 * len(domains) + 2), 4))
            xs = range(len(domains))
            ax.bar([x - 0.2 for x in xs], [ds["domains"][d]["keep_rate"] for d in domains], width=0.4, label="keep_rate", color="#5aa0d8")
            ax.bar([x + 0.2 for x in xs], [ds["domains"][d]["exact_keep_pct_word"] for d in domains], width=0.4, label="exact_keep_pct_word", color="#0b4f8a")
            ax.set_xticks(list(xs), [f"{d}\n(n={ds['domains'][d]['rows']})" for d in domains])
            ax.set_ylim(0, 1.05)
            ax.set_ylabel("fraction")
            ax.set_title(f"{ds['name']}: per domain (whorf alone, no override)")
            ax.legend(fontsize=8)
            fig.tight_layout()
            name = f"{_slug(ds['name'])}-domains.png"
            fig.savefig(directory / name, dpi=110)
            plt.close(fig)
            ds["plots"].append(name)
