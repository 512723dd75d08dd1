"""The prose collector behind ``whorf label-prose``: only prose paragraphs of real documents go in, the choice is
deterministic, and the command labels them with a model + override."""

import gzip
import json
import subprocess
import sys

from whorf.loop.prose import ProseConfig, chunks, collect, doc_files, package_readmes, paragraphs

README = """# mytool

[![build](https://ci.example/badge.svg)](https://ci.example)

mytool reads the configuration file once at start-up and watches it for changes, so that a running
service picks up a new setting without a restart. It never rewrites the file it reads.

```bash
pip install mytool
mytool --config /etc/mytool.toml
```

| option | default |
|--------|---------|
| port   | 8080    |

- The watcher polls every two seconds when the platform has no file events.
- Install
    indented code block line

.. code-block:: python

See https://example.org/docs for the full reference. Older releases are documented there as well, and
their changelogs explain why each default changed between versions.
"""


def test_paragraphs_keep_prose_and_drop_code_tables_badges():
    paras = list(paragraphs(README))
    text = " ".join(paras)
    assert any(p.startswith("mytool reads the configuration file once") and p.endswith("never rewrites the file it reads.") for p in paras)
    assert "- The watcher polls every two seconds when the platform has no file events." in paras  # a list item: its own paragraph
    for dropped in ("pip install", "| port", "badge.svg", "indented code block", "code-block"):
        assert dropped not in text


def test_chunks_are_whole_paragraphs_within_the_word_bounds():
    cfg = ProseConfig(min_words=10, max_words=40)
    out = chunks(README, cfg)
    assert out and all(10 <= len(c.split()) <= 40 for c in out)
    paras = set(paragraphs(README))
    assert all(part in paras for c in out for part in c.split("\n\n"))
    assert chunks("```\nonly code\n```\n", cfg) == [] and chunks("", cfg) == []


def test_collect_is_deterministic_capped_and_reads_gzipped_docs(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "README.md").write_text(README)
    (tmp_path / "pkg" / "README.Debian.gz").write_bytes(gzip.compress(README.replace("mytool", "othertool").encode()))
    (tmp_path / "pkg" / "binary.md").write_bytes(b"\xff\xfe\x00 not text")
    (tmp_path / "pkg" / "notes.txt").write_text(README)  # neither README nor markdown: not read
    sources = list(doc_files([tmp_path]))
    assert [s for s, _ in sources] == ["doc:pkg/README.Debian.gz", "doc:pkg/README.md"]
    cfg = ProseConfig(min_words=10, max_words=40, per_source=1)
    rows = collect(sources, cfg)  # both files belong to the package "pkg": one text of it
    assert len(rows) == 1 and len(collect(sources, ProseConfig(min_words=10, max_words=40, per_source=2))) == 2
    assert {r.domain for r in rows} == {"prose"} and all(r.kind == "unlabelled" for r in rows)
    assert [r.text for r in collect(list(doc_files([tmp_path])), cfg)] == [r.text for r in rows]
    two = ProseConfig(min_words=10, max_words=40, per_source=2)
    assert len(collect(sources, two)) == 2 and len(collect(sources, two, limit=1)) == 1


def test_installed_packages_have_readmes():
    found = dict(package_readmes())
    assert "pypi:pytest" in found and len(found["pypi:pytest"].split()) > 50


def test_label_prose_command_writes_pairs(tiny_model_dir, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text(README * 3)
    out = tmp_path / "mix.jsonl"
    cmd = [sys.executable, "-m", "whorf", "label-prose", "--out", str(out), "--model", str(tiny_model_dir),
           "--docs", str(tmp_path / "docs"), "--no-packages"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["texts"] >= 1 and summary["pairs"] + summary["filtered_out"] == summary["texts"]
    assert len(out.read_text().splitlines()) == summary["pairs"] >= 1
    for line in out.read_text().splitlines():
        row = json.loads(line)
        assert row["source"] == "selflabel" and row["origin"].endswith("README.md") and row["reference"]
    missing = subprocess.run(cmd[:-3] + ["--docs", str(tmp_path / "nope"), "--no-packages"], capture_output=True, text=True, timeout=300)
    assert missing.returncode != 0 and "not a directory" in missing.stderr


def test_corrupt_huge_and_empty_doc_files_are_skipped(tmp_path):
    from whorf.loop import prose

    data = bytearray(gzip.compress(README.encode()))
    data[10] ^= 0x55  # a corrupt deflate stream: zlib.error, not an OSError
    (tmp_path / "README.gz").write_bytes(bytes(data))
    (tmp_path / "README.md").write_text("")
    (tmp_path / "big.md").write_text("word " * (prose.MAX_FILE_BYTES // 5 + 10))
    assert [s for s, _ in doc_files([tmp_path])] == ["doc:README.md"]


def test_the_python_reference_is_a_source_and_one_package_is_capped():
    from whorf.loop.prose import python_reference

    topics = dict(python_reference())
    assert "pydoc:assignment" in topics
    rows = collect(sorted(topics.items()), ProseConfig(per_source=2))
    assert rows and max(sum(r.source == s for r in rows) for s in topics) <= 2
    many = [(f"doc:big/{i}.md", README.replace("mytool", f"tool{i}")) for i in range(5)]  # one package, five files
    assert len(collect(many, ProseConfig(min_words=10, max_words=40, per_source=3))) == 3
