"""Distillation against a real local chat-completions server with a deterministic rule."""

import json

from fastapi import FastAPI, Request

from whorf.loop.distill import DistillConfig, align, distill
from whorf.data import read

from conftest import FIXTURES
from servers import serve


def teacher_app():
    """Deletes words of three letters or fewer; answers that start with 'REWRITE' reorder words instead."""
    app = FastAPI()
    app.state.calls = []

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        app.state.calls.append(body)
        text = body["messages"][-1]["content"]
        words = text.split()
        if "REWRITE" in text:
            answer = " ".join(reversed(words)) + " plus invented words"
        else:
            answer = " ".join(w for w in words if len(w) > 3)
        return {"choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}]}

    return app


def test_align_reports_variation():
    ref, variation = align("the job failed with exit 3", "job failed exit 3")
    assert ref == "job failed exit 3" and variation == 0.0
    ref, variation = align("a b c", "c b a new")
    assert variation > 0.5


def test_distill_writes_aligned_pairs_and_drops_rewrites(tmp_path):
    src = tmp_path / "texts.jsonl"
    src.write_text("\n".join(json.dumps(o) for o in [
        {"text": "the worker was killed with SIGKILL after the timeout of 30 seconds"},
        {"text": "REWRITE this whole sentence please now"},
        {"output": "and then the build of module core failed on linux"},
    ]) + "\n")
    app = teacher_app()
    with serve(app) as url:
        out = tmp_path / "pairs.jsonl"
        stats = distill(DistillConfig(teacher=f"{url}/v1", teacher_model="rule", data=[str(src)], out=str(out)))
    assert stats.summary()["written"] == 2 and stats.summary()["dropped_for_variation"] == 1
    assert app.state.calls[0]["model"] == "rule"
    rows, report = read(out)
    assert [r.kind for r in rows] == ["pair", "pair"] and not report.skipped
    assert rows[0].reference == "worker killed with SIGKILL after timeout seconds"
    for r in rows:  # references are subsequences of their texts
        it = iter(r.text.split())
        assert all(any(w == x for x in it) for w in r.reference.split())


def test_unreachable_teacher_counts_failures(tmp_path):
    stats = distill(DistillConfig(teacher="http://127.0.0.1:9/v1", teacher_model="x", data=[str(FIXTURES / "train_small.jsonl")],
                                  out=str(tmp_path / "o.jsonl"), limit=2, timeout=2))
    assert stats.failed == 2 and stats.written == 0
