"""Retrieval (placeholder while being written)."""

from __future__ import annotations


class Originals:
    def __init__(self, pairs, writer):
        self.pairs, self.writer = pairs, writer

    def put(self, original: str) -> str:
        from whorf.store import handle_of

        handle = handle_of(original)
        self.writer.put("originals", [{"handle": handle, "original": original, "created_at": __import__("whorf.proxy.pairs").proxy.pairs.now()}])
        return handle


async def answer_with_retrieval(proxy, api, target, headers, rewrite):
    return None
