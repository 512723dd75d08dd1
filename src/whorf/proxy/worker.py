"""The proxy's compression worker: a separate process, so a slow compression never stalls the proxy.

Compression that holds the GIL (a regular expression on a long unbroken run, a model call) would freeze
every request and ``/stats`` if it ran in the proxy's own process; in a child process it cannot. The
parent sends one job at a time from a dispatcher thread, skips jobs whose request already gave up
(deadline), and kills and restarts a child that stays on one job past ``kill_after_s``. While the child is
starting or restarting, :meth:`CompressionWorker.submit` fails at once and the proxy forwards originals.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import pickle
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

log = logging.getLogger("whorf.proxy")


@dataclass
class Outcome:
    """What the proxy needs from one ``Compressed`` (small enough to send between processes)."""

    text: str
    passthrough: str | None
    domain: str
    model: str
    tokens_in: int
    tokens_out: int
    words: list = field(default_factory=list)  # [[text, kept, must_keep, line], ...] (first 600, for the dashboard)
    decisions: list = field(default_factory=list)  # [[kept, must_keep, score], ...] per word (pair log)
    handles: list = field(default_factory=list)  # handles of the markers the structural stage left
    markers: list = field(default_factory=list)  # [[handle, reason, count, unit, line], ...] per marker
    shape: str = ""  # the structure module that decided ("" when nothing structural changed)
    by_reason: dict = field(default_factory=dict)  # units omitted per reason (repetition, budget, query, blob)
    query_terms: list = field(default_factory=list)  # the query's terms that singled out the units kept


def outcome(res, words: bool = True) -> Outcome:
    stats = res.stats
    markers = getattr(res, "markers", None) or []
    return Outcome(
        text=res.text, passthrough=stats.passthrough, domain=stats.domain, model=stats.model,
        tokens_in=stats.tokens_in, tokens_out=stats.tokens_out,
        words=[[w.text, w.kept, w.must_keep, w.line] for w in res.first_words(600)],
        decisions=[[int(w.kept), int(w.must_keep), round(float(w.score), 4)] for w in res.words] if words else [],
        handles=[getattr(m, "handle", None) for m in markers if getattr(m, "handle", None)],
        markers=[[m.handle, m.reason, m.count, m.unit, m.line] for m in markers],
        shape=stats.structure, by_reason=dict(stats.omitted_by_reason), query_terms=list(stats.query_terms),
    )


@dataclass(frozen=True)
class ModelSpec:
    """Build the compressor in the child from its name (the parent never loads the model)."""

    model: str
    runtime: str = "torch"

    def __call__(self):
        from whorf.compressor import Compressor

        return Compressor(self.model, self.runtime)


@dataclass(frozen=True)
class Pickled:
    """Hand an already built compressor to the child (tests, embedding)."""

    blob: bytes

    def __call__(self):
        return pickle.loads(self.blob)


def factory_for(compressor) -> Pickled:
    return Pickled(pickle.dumps(compressor))


def _child(conn, factory) -> None:
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        compressor = factory()
        compressor.compress_batch(["warm up: the first call initialises the runtime " * 20])
    except BaseException as exc:  # noqa: BLE001
        conn.send(("failed", type(exc).__name__))
        return
    conn.send(("ready", compressor.model_id))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        job_id, texts, options, words, queries = job
        try:
            results = compressor.compress_batch(texts, options, queries=queries)
            conn.send((job_id, [outcome(r, words) for r in results]))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, who forwards originals
            conn.send((job_id, type(exc).__name__))


@dataclass
class _Job:
    texts: list
    options: object
    words: bool
    queries: list | None = None
    future: Future = field(default_factory=Future)


class CompressionWorker:
    def __init__(self, factory, kill_after_s: float = 10.0, start_timeout_s: float = 300.0):
        self.factory = factory
        self.kill_after_s = kill_after_s
        self.start_timeout_s = start_timeout_s
        self.model_id = ""
        self.restarts = 0
        self.ready = threading.Event()
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._ctx = mp.get_context("spawn")
        self._process = None
        self._conn = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._next_id = 0

    def start(self, wait: bool = True) -> "CompressionWorker":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="whorf-compress-dispatch", daemon=True)
            self._thread.start()
        if wait and not self.ready.wait(self.start_timeout_s):
            raise RuntimeError("the compression worker did not start")
        return self

    def submit(self, texts: list[str], options, words: bool = True, queries: list | None = None) -> Future:
        """A future of ``list[Outcome]``; fails at once when the child is not ready. ``queries``: each
        text's query (the agent's intent), or None."""
        job = _Job(texts, options, words, queries)
        if not self.ready.is_set() or self._stopping:
            job.future.set_exception(RuntimeError("compression worker not ready"))
        else:
            self._jobs.put(job)
        return job.future

    def stop(self) -> None:
        self._stopping = True
        self._jobs.put(None)
        if self._thread:
            self._thread.join(timeout=10)
        self._kill()

    # --- the dispatcher thread -------------------------------------------------------------------

    def _spawn(self) -> bool:
        parent, child = self._ctx.Pipe()
        self._process = self._ctx.Process(target=_child, args=(child, self.factory), daemon=True, name="whorf-compress")
        self._process.start()
        child.close()
        self._conn = parent
        if not parent.poll(self.start_timeout_s):
            self._kill()
            return False
        try:
            kind, value = parent.recv()
        except (EOFError, OSError):
            kind, value = "failed", "EOFError"
        if kind != "ready":
            log.error("compression worker failed to start (%s)", value)
            self._kill()
            return False
        self.model_id = value
        self.ready.set()
        return True

    def _kill(self) -> None:
        self.ready.clear()
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def _run(self) -> None:
        if not self._spawn():
            return
        while True:
            job = self._jobs.get()
            if job is None or self._stopping:
                return
            if not job.future.set_running_or_notify_cancel():
                continue  # the request gave up (deadline) before its turn: skip the work
            self._next_id += 1
            try:
                self._conn.send((self._next_id, job.texts, job.options, job.words, job.queries))
                result = self._await(self._next_id)
            except (EOFError, OSError, TimeoutError, pickle.PicklingError) as exc:
                job.future.set_exception(RuntimeError(f"compression worker: {type(exc).__name__}"))
                self._restart()
                continue
            if isinstance(result, str):
                job.future.set_exception(RuntimeError(f"compression failed: {result}"))
            else:
                job.future.set_result(result)

    def _await(self, job_id: int):
        started = time.monotonic()
        while not self._conn.poll(0.05):
            if self._stopping:
                raise EOFError
            if time.monotonic() - started > self.kill_after_s:
                raise TimeoutError
        got_id, result = self._conn.recv()
        if got_id != job_id:
            raise EOFError
        return result

    def _restart(self) -> None:
        self._kill()
        if self._stopping:
            return
        self.restarts += 1
        log.warning("compression worker restarted (%d so far)", self.restarts)
        while not self._spawn():
            if self._stopping:
                return
            time.sleep(5)
