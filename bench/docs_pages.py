"""The generated parts of docs/student.md, docs/selflabel.md, docs/proxy.md and docs/structure.md.

``bench/docs.py`` merges ``FIGURES`` into its own: each name maps to (a report, a function of that report
returning the markdown between ``<!-- figure: NAME -->`` and ``<!-- /figure -->``). A report path is
relative to ``docs/eval``, or to the repository root when it starts with ``src/``. Reports: the student's
training record (``src/whorf/models/whorf-micro/whorf.json``, written by ``whorf student``) and gates
(``onnx.json`` beside it, written by ``whorf ship-onnx``); ``docs/eval/report.json`` and
``docs/eval/whorf-mini/report.json`` (``whorf eval``); ``docs/eval/selflabel.json`` (the self-labeling run's
table); ``docs/eval/session.json`` (``bench/session_replay.py``); ``docs/eval/structure.json``
(``bench/corpus/eval_structure.py``). Each part names the runtime and model its report records. Nothing
here measures anything.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "docs" / "eval"
TEACHER_REPORT = EVAL / "whorf-mini" / "report.json"


# --- docs/student.md ------------------------------------------------------------------------------------

def student_training(data: dict) -> str:
    """The student's training record and its fp32 agreement with the teacher (whorf.json)."""
    t, e = data["training"], data["evaluation"]
    hp, rows = t["hyperparameters"], t["rows"]
    teacher = t["distilled_from"]
    before = e["validation_before"]["token_agreement"]
    epochs = ", ".join(f"{h['token_agreement']:.3f}" for h in e["history"])
    g = e["teacher_gate_held_out"]
    precision = "bf16 autocast" if hp["bf16"] else "fp32"
    return (f"Recorded in `src/whorf/models/whorf-micro/whorf.json` (`whorf student`, runtime torch {precision}, model "
            f"{data['name']}, teacher {teacher['teacher']} at commit {teacher['teacher_commit'][:7]}): the teacher's layers "
            f"{', '.join(map(str, data['layers']))}; lr {hp['lr']:g} (heads {hp['head_lr']:g}), {hp['epochs']} epochs, batch "
            f"{hp['batch_size']}, {precision}, loss weight up to {1 + hp['near_weight']:g}x near the threshold; "
            f"{rows['train']:,} training rows in {t['windows']:,} windows ({rows['validation']:,} validation rows, "
            f"{rows['held_out']:,} held out); {t['wall_seconds'] / 60:.1f} min wall on {t['torch_threads']} torch threads.\n"
            f"\n"
            f"Token-level agreement with the teacher on the validation rows: {before:.3f} before training (the cut "
            f"layers as they are), then per epoch {epochs}; best epoch {e['best_epoch']}. On the held-out rows "
            f"({g['rows']:,} rows, {g['words']:,} words, model alone, both in {g['candidate']} fp32) the student's keep "
            f"decisions agree with the teacher's on {g['agreement']:.4f} of words; exact_keep_pct "
            f"{g['exact_keep_pct_reference']:.4f} -> {g['exact_keep_pct_candidate']:.4f} "
            f"(drop {g['exact_keep_pct_drop']:+.4f}); gate: {'pass' if g['passed'] else 'not met'}.\n")


def _gate_row(name: str, g: dict) -> str:
    return (f"| {name} {g['candidate']} | {g['reference']} | {g['agreement']:.4f} | "
            f"{g['exact_keep_pct_reference']:.4f} -> {g['exact_keep_pct_candidate']:.4f} | "
            f"{g['exact_keep_pct_drop']:+.4f} | {'pass' if g['passed'] else '**not met**'} |")


def student_gate(data: dict) -> str:
    """Both gates of the shipped int8 graph (onnx.json)."""
    g, tg = data["gate"], data["teacher_gate"]
    kept = ", ".join(f"`{k}`" for k in data["keep_fp32"])
    recipe = data["quantization"].split("; kept fp32:")[0]
    conv = "; span convolution int8" if data.get("conv_int8") else ""
    rows = f"{g['rows']:,} held-out rows, {g['words']:,} words" if (g["rows"], g["words"]) == (tg["rows"], tg["words"]) else \
        f"held-out rows ({g['rows']:,} rows / {g['words']:,} words; teacher gate {tg['rows']:,} / {tg['words']:,})"
    md = [f"Recorded in `src/whorf/models/whorf-micro/onnx.json` (`whorf ship-onnx`): the shipped graph "
          f"`{data['graph']}` (runtime {g['candidate']}, model whorf-micro; {recipe}, kept fp32: {kept}{conv}) on {rows}, "
          "the model alone:", "",
          "| candidate | reference | keep-decision agreement | exact_keep_pct (reference -> candidate) | drop | gate |",
          "|---|---|---|---|---|---|",
          _gate_row("whorf-micro", {**g, "reference": f"whorf-micro {g['reference']} fp32 (its own weights)"}),
          _gate_row("whorf-micro", tg), "",
          f"The student decides {(1 - tg['agreement']) * 100:.1f} % of the words differently from its teacher: the teacher gate is "
          f"{'passed' if tg['passed'] else 'not met'}."]
    return "\n".join(md) + "\n"


HELDOUT_NAMES = {  # dataset in the report -> how the page names it
    "kompress_train_split": "Q&A, kompress_train_split",
    "kompress_agent_train": "agent tool outputs, kompress_agent_train",
    "domain_train_2k": "domain outputs, domain_train_2k",
    "c3_qwen_labeled": "Qwen span labels, c3_qwen_labeled",
    "heretic_train": "heretic, heretic_train, never trained on",
}
ALONE = "whorf (no override)"


def student_heldout(data: dict) -> str:
    """Teacher -> student on the held-out rows, model alone (report.json and whorf-mini/report.json)."""
    teacher = json.loads(TEACHER_REPORT.read_text())
    before = {d["name"]: d for d in teacher["datasets"]}
    pairs = [(d["name"], before[d["name"]]["systems"][ALONE], d["systems"][ALONE], d["rows_scored"])
             for d in data["datasets"] if d["name"] in before]
    regressions = data.get("regressions")
    md = [f"`whorf eval --split held-out`, the model alone (`{ALONE}`): the teacher {teacher['model']} (runtime "
          f"{teacher['runtime']}, `docs/eval/whorf-mini/report.json`) -> the student {data['model']} (runtime "
          f"{data['runtime']}, `docs/eval/report.json`); `--compare` against the teacher's report flags "
          f"{'no regression' if not regressions else ', '.join(map(str, regressions))}:", "",
          "| held-out rows (scored) | exact (word) | exact (substring) | keep_rate | sem_sim | F1 |",
          "|---|---|---|---|---|---|"]
    for name, a, b, n in pairs:
        cells = [f"{a[m]:.3f} -> {b[m]:.3f}" for m in ("exact_keep_pct_word", "exact_keep_pct", "keep_rate", "sem_sim", "f1")]
        md.append(f"| {HELDOUT_NAMES.get(name, name)} ({n}) | " + " | ".join(cells) + " |")
    word = [b["exact_keep_pct_word"] >= a["exact_keep_pct_word"] for _, a, b, _ in pairs]
    md += ["", ("On every set the student keeps at least as many must-keep words (whole words) as its teacher"
                if all(word) else f"The student keeps at least as many must-keep words (whole words) as its teacher on "
                f"{sum(word)} of {len(word)} sets")]
    losses = []
    for metric, label in (("sem_sim", "sem_sim"), ("f1", "F1")):
        name, a, b, _ = min(pairs, key=lambda p: p[2][metric] - p[1][metric])
        if b[metric] < a[metric]:
            losses.append(f"{label} on {HELDOUT_NAMES.get(name, name).split(',')[0]} ({b[metric] - a[metric]:+.3f})")
    md[-1] += f"; its largest losses are {' and '.join(losses)}.\n" if losses else "; it loses no sem_sim or F1 on any set.\n"
    return "\n".join(md)


# --- docs/selflabel.md ----------------------------------------------------------------------------------

def selflabel_run(data: dict) -> str:
    o = data["options"]
    return (f"A run of {o['generations']} generations from {data['model']} on `{data['data']}`, on a {data['machine']}, "
            f"{data['date']} (evaluation runtime {data['runtime']}, model {data['model']} as generation 0; figures "
            f"transcribed from the run's printed table into `docs/eval/selflabel.json`):\n\n"
            f"```bash\n{data['command']}\n```\n\n"
            f"Up to {o['max_rows_per_file']} training texts per file, about {data['pairs_per_generation_approx']:,} "
            f"pairs per generation after the filter; {o['epochs']} epochs per generation; {o['eval_rows']} held-out "
            f"rows per evaluation set.\n")


def _f(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def _regressions(g: dict, sep: str = "->") -> str:
    return ", ".join(f"{r['prompt_start'].strip()} {r['old']:.3f}{sep}{r['new']:.3f}" for r in g["regressions"]) or "none"


def selflabel_table(data: dict) -> str:
    md = [f"Per generation (evaluation runtime {data['runtime']}; generation 0 is {data['generations'][0]['model']}, each "
          "later one the model trained from its labels, `runs/loop/genN/model`):", "",
          "| gen | training labels | mk_in_ref | exact (override) | exact (model alone) | override_delta | keep_rate | "
          "sem_sim | heretic regressions | wall s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for g in data["generations"]:
        e = g["eval"]
        md.append(f"| {g['generation']} | {g['source']} | {_f(g['labels'].get('mk_in_ref'))} | {_f(e['exact_keep_pct'])} | "
                  f"{_f(e['exact_keep_pct_model'])} | {_f(e['override_delta'])} | {_f(e['keep_rate'])} | {_f(e['sem_sim'])} | "
                  f"{_regressions(g)} | {g['wall_seconds']:.1f} |")
    return "\n".join(md) + "\n"


def selflabel_result(data: dict) -> str:
    gens = data["generations"]
    start, later = gens[0], gens[1:]
    best = gens[data["selected"]]
    delta = "override_delta never reached 0" if all(g["eval"]["override_delta"] > 0 for g in later) else \
        "override_delta reached 0"
    md = [f"**Converged: {'yes' if data['converged'] else 'no'}** ({delta}). **Selected: generation "
          f"{best['generation']}, {best['model']}** (evaluation runtime {data['runtime']})"]
    exact = [g["eval"]["exact_keep_pct_model"] for g in later]
    sem = [g["eval"]["sem_sim"] for g in later]
    if all(x < start["eval"]["exact_keep_pct_model"] for x in exact) and all(x < start["eval"]["sem_sim"] for x in sem):
        md[0] += (": every self-labelled generation is worse on the model-alone exact_keep_pct ("
                  f"{', '.join(map(_f, exact))} against {_f(start['eval']['exact_keep_pct_model'])}) and on sem_sim "
                  f"({', '.join(map(_f, sem))} against {_f(start['eval']['sem_sim'])})")
    regressed = [f"generation {g['generation']} ({_regressions(g, ' -> ')})" for g in later if g["regressions"]]
    if regressed:
        md[0] += "; heretic prompts regressed in " + " and in ".join(regressed)
    return md[0] + ".\n"


def selflabel_why(data: dict) -> str:
    gens = data["generations"]
    labels = [g["labels"].get("mk_in_ref") for g in gens[1:]]
    first = next(g for g in gens[1:] if g["labels"].get("prose_word_keep") is not None)
    qa = [(g["generation"], g["eval"]["qa_keep_rate"]) for g in gens if g["eval"].get("qa_keep_rate") is not None]
    mk = f"{_f(labels[0])} in every generation" if len(set(labels)) == 1 else ", ".join(map(_f, labels))
    return (f"In this run (evaluation runtime {data['runtime']}) the self-labels' mk_in_ref is {mk}; generation "
            f"{first['generation']}'s labels (from "
            f"{gens[first['generation'] - 1]['model']} with its per-domain calibration) keep "
            f"{first['labels']['prose_word_keep'] * 100:.0f} % of prose words; the Q&A keep_rate (kompress_train_split) is "
            + ", ".join(f"{v:.2f} in generation {g}" for g, v in qa) + ".\n")


# --- docs/proxy.md --------------------------------------------------------------------------------------

def _command(command: str) -> str:
    return re.sub(r"\S*/python\S*", "python", command)


def proxy_session(data: dict) -> str:
    """The replayed session at the proxy's default settings, against the same session without queries."""
    from whorf.config import DEFAULT_QUERY_BUDGET_TOKENS

    runs = data["runs"]
    name, run = next((n, r) for n, r in runs.items()
                     if r["queries"] and r["query_budget_tokens"] == DEFAULT_QUERY_BUDGET_TOKENS)
    turns, off = run["turns"], runs["no queries"]["turns"]

    def ratio(ts: list[dict]) -> float:
        return sum(t["upstream_bytes"] for t in ts) / sum(t["original_bytes"] for t in ts)

    slow = max(turns[1:], key=lambda t: t["added_ms"])
    return (f"{data['turns']} turns (`python bench/session_replay.py`, api {data['api']}, model {data['model']}), the "
            f"proxy at its default settings (run `{name}`): {sum(t['prefix_changed'] for t in turns)} prefix changes; "
            f"{sum(t['answers_kept'] for t in turns)}/{sum(t['answers'] for t in turns)} answer lines kept; bytes sent "
            f"upstream / bytes the client sent {ratio(turns):.2f} over the session and {ratio(turns[-1:]):.2f} for the "
            f"last request (without queries {ratio(off):.2f} and {ratio(off[-1:]):.2f}). Added latency: "
            f"{turns[0]['added_ms']:.1f} ms at turn 1, {turns[-1]['added_ms']:.1f} ms at turn {turns[-1]['turn']}; medians "
            f"{statistics.median(t['added_ms'] for t in turns[:5]):.1f} ms over the first five turns and "
            f"{statistics.median(t['added_ms'] for t in turns[-5:]):.1f} ms over the last five; the most after turn 1, "
            f"{slow['added_ms']:.1f} ms at turn {slow['turn']} (`{_command(slow['command'])}`, {slow['new_chars']:,} "
            f"characters).\n")


# --- docs/structure.md ----------------------------------------------------------------------------------

def structure_summary(data: dict) -> str:
    rows, logs = data["corpus"], data["loghub"]

    def totals(system: str) -> str:
        rs = [r for r in rows if r["system"] == system]
        altered = sum(r["altered_lines"] for r in rs if r["altered_lines"] is not None)
        return (f"{sum(r['facts'] for r in rs)}/{sum(r['facts_total'] for r in rs)} facts kept, {altered:,} lines "
                f"altered outside prose, {sum(r['checks'] for r in rs)}/{sum(r['checks_total'] for r in rs)} structural "
                f"checks, mean character keep {statistics.mean(r['char_keep'] for r in rs):.3f}")

    cases = len({r["case"] for r in rows})
    md = (f"In `docs/eval/structure.json` (runtime {data['runtime']}, model {data['model']}), on {cases} real program "
          f"outputs: whorf {totals('whorf')}; the word model alone {totals('word model only')}.")
    if logs:
        md += (f" LogHub ({len(logs)} windows from {len({r['system'] for r in logs})} systems): "
               f"{sum(r['severe_kept'] for r in logs):,}/{sum(r['severe'] for r in logs):,} ERROR/WARN-level lines and "
               f"{sum(r['first_instances_kept'] for r in logs):,}/{sum(r['templates'] for r in logs):,} first lines of a "
               f"template kept, mean character keep {statistics.mean(r['char_keep'] for r in logs):.3f}.")
    return md + "\n"


# --- docs/scale.md and the README: whorf batch -------------------------------------------------------------

def _scale_rows(runs: dict) -> list[str]:
    names = {"local": "`--local` (one process, no Ray)", "ray_1": "Ray, 1 worker", "ray_2": "Ray, 2 workers"}
    return [f"| {names[k]} | {r['rows']:,} | {r['rows_out']:,} | {r['wall_s']:.1f} s | {r['rows_per_s']:,.0f} | "
            f"{r['tokens_per_s']:,} | {r['rows_per_s_per_worker']:,.0f} | {r['tokens_per_s_per_worker']:,} |"
            for k, r in runs.items()]


def batch_scale(data: dict) -> str:
    head = ("| run | rows in | rows out | wall time | rows/s | tokens/s | rows/s per worker | tokens/s per worker |\n"
            "|---|---|---|---|---|---|---|---|")
    m = data["machine"]
    return "\n".join([
        f"On this machine ({m['cpus']} cores, Python {m['python']}; `python bench/batch_scale.py --rows {data['rows']} "
        f"--json docs/eval/batch.json`, shards of {data['shard_rows']:,} rows, wall time of the whole command, Ray's "
        "start-up included):", "",
        f"`whorf batch compress` on {data['rows']:,} mixed rows (real program outputs, the shared training rows as they "
        "are, LogHub windows of 200 lines; most of the work is the structural stage):", "", head,
        *_scale_rows(data["compress"]), "",
        f"2 workers / 1 worker: **{data['compress_speedup_2_vs_1']:.2f}x**; output bytes identical in all three: "
        f"**{'yes' if data['compress_identical'] else 'NO'}**.", "",
        f"`whorf batch selflabel` on {data['selflabel']['local']['rows']:,} of those rows (every word through the word "
        "model: the model-bound job):", "", head, *_scale_rows(data["selflabel"]), "",
        f"2 workers / 1 worker: **{data['selflabel_speedup_2_vs_1']:.2f}x**; identical: "
        f"**{'yes' if data['selflabel_identical'] else 'NO'}**.", ""])


def batch_faults(data: dict) -> str:
    k, r = data["killed_worker"], data["resumed"]
    return (f"- A worker killed (SIGKILL) mid-run, 2 workers: the job exited {k['exit_code']}, "
            f"{k['rows_out']:,}/{data['rows']:,} rows out, {k['processes']} worker processes took part (Ray restarted "
            f"the dead one and retried its shard), output identical to the single-process run: "
            f"**{'yes' if k['identical'] else 'NO'}**.\n"
            f"- A single-process job killed after {r['finished_before_kill']} of {r['shards']} shards, then run again: "
            f"the second run did {r['run_again']} shards, {r['rows_out']:,} rows out, identical: "
            f"**{'yes' if r['identical'] else 'NO'}**.\n")


def batch_capacity(data: dict) -> str:
    md = ["| job | tokens/s per core (measured, one worker) | cores for 1M pairs a day | cores for 100M pairs a day |",
          "|---|---|---|---|"]
    for c in data["capacity"]:
        md.append(f"| {c['operation']} | {c['tokens_per_s_per_core']:,} | {c['cores_for_1M_pairs_a_day']} | "
                  f"{c['cores_for_100M_pairs_a_day']} |")
    return "\n".join(md) + "\n"


def batch_summary(data: dict) -> str:
    c = data["compress"]
    return (f"{data['rows']:,} mixed rows through `whorf batch compress` on {data['machine']['cpus']} cores "
            f"(`python bench/batch_scale.py`): {c['ray_1']['rows_per_s']:,.0f} rows/s with 1 worker, "
            f"{c['ray_2']['rows_per_s']:,.0f} with 2 ({data['compress_speedup_2_vs_1']:.2f}x; model-bound "
            f"`selflabel`: {data['selflabel_speedup_2_vs_1']:.2f}x), {c['ray_2']['rows_out']:,} rows out, the same "
            f"bytes as `--local`: {'yes' if data['compress_identical'] else 'NO'}; a worker killed mid-run lost "
            f"{data['rows'] - data['killed_worker']['rows_out']} rows.\n")


def parallel_training(data: dict) -> str:
    one, two = data["runs"]
    rows = ["| processes | validation loss per epoch | held-out val loss | held-out F1 | held-out keep rate | "
            "held-out exact_keep_pct (model alone) | step time | wall time |", "|---|---|---|---|---|---|---|---|"]
    for r in (one, two):
        h = r["held_out"]
        rows.append(f"| {r['processes']} | {', '.join(f'{v:.4f}' for v in r['val_loss'])} | {h['val_loss']:.4f} | "
                    f"{h['f1']:.4f} | {h['keep_rate']:.4f} | {h['exact_keep_pct_model']:.4f} | {r['train_s']:.0f} s | "
                    f"{r['wall_s']:.0f} s |")
    return (f"The real backbone on the shared data (`python bench/parallel_train.py --rows-per-file {data['rows_per_file']} "
            f"--epochs {data['epochs']} --json docs/eval/parallel.json`; global batch {data['global_batch']}, "
            f"{data['cpus']} cores: one process with {data['cpus']} threads against {data['cpus']} processes with one):\n\n"
            + "\n".join(rows) + f"\n\nValidation loss differs by at most {max(data['val_loss_rel_diff']):.2%}; the steps "
            f"ran {data['train_speedup']:.2f}x as fast: on one 2-core machine torch's own threads already use both cores, "
            "so data parallelism pays on more machines or GPUs, not here (the wall time also holds the main process's "
            "held-out evaluation and calibration, on its one thread).\n")


FIGURES: dict[str, tuple[str, Callable[[dict], str]]] = {
    "parallel-training": ("parallel.json", parallel_training),
    "batch-summary": ("batch.json", batch_summary),
    "batch-scale": ("batch.json", batch_scale),
    "batch-faults": ("batch.json", batch_faults),
    "batch-capacity": ("batch.json", batch_capacity),
    "student-training": ("src/whorf/models/whorf-micro/whorf.json", student_training),
    "student-gate": ("src/whorf/models/whorf-micro/onnx.json", student_gate),
    "student-heldout": ("report.json", student_heldout),
    "selflabel-run": ("selflabel.json", selflabel_run),
    "selflabel-table": ("selflabel.json", selflabel_table),
    "selflabel-result": ("selflabel.json", selflabel_result),
    "selflabel-why": ("selflabel.json", selflabel_why),
    "proxy-session": ("session.json", proxy_session),
    "structure-summary": ("structure.json", structure_summary),
}
