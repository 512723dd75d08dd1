"""Every figure in the README and docs/ agrees with the committed report it is generated from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_generated_figure_agrees_with_its_report():
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "docs.py"), "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_changed_figure_is_caught(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    import docs

    readme = (ROOT / "README.md").read_text()
    assert "<!-- figure: heldout -->" in readme
    rendered = docs.with_figures(readme)
    tampered = rendered.replace("| kompress_train_split (", "| kompress_train_split (9", 1)
    assert tampered != rendered and docs.with_figures(tampered) == rendered  # the report wins over the text
