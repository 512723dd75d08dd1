"""Large inputs (not a test): a 2 MB log and a 3 MB JSON through the product path, per-word decisions not asked.

    python bench/large.py [--repeats 3] [--json docs/eval/large.json]

Inputs, made here from real sources: the log is the six LogHub systems of ../shared/data/loghub one after the
other (whole lines, cut at 2,000,000 characters); the JSON is `pip inspect` of this venv (every installed
package's metadata, as pip prints it) followed by an `os.lstat` record of every file of the venv (path, size,
mode, mtime), one array of records, cut at whole records under 3,200,000 characters. Each is compressed with
the default model and options (store off), once to warm up and then ``--repeats`` times; the median is
reported with the range, the route and the tokens in and out (o200k_base where quicktok-v1 is installed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reports  # bench/reports.py (bench/ is the script's directory)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
LOGHUB = ROOT.parent / "shared" / "data" / "loghub"

from whorf import Compressor  # noqa: E402
from whorf.config import CompressOptions  # noqa: E402


def big_log(chars: int = 2_000_000) -> str:
    """The LogHub samples (1.45 MB), then a real access log to reach ``chars``: ``python -m http.server``
    answering requests for files that exist and files that do not (200s and 404s, many clients' ports)."""
    text = "".join(p.read_text(errors="replace") for p in sorted(LOGHUB.glob("*/*.log")))
    return (text + access_log(max(0, chars - len(text)) + 1000))[:chars].rsplit("\n", 1)[0] + "\n"


def access_log(chars: int) -> str:
    import random
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.TemporaryFile("w+")  # a file, not a pipe: the server never waits for the reader
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True)
    rng = random.Random(0)
    files = [str(p.relative_to(ROOT)) for p in sorted(ROOT.glob("src/whorf/**/*.py"))]
    try:
        for _ in range(200):  # wait for it to listen
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        sent = 0
        while sent < chars:
            path = rng.choice(files) if rng.random() < 0.8 else f"missing/{rng.randrange(10**6)}.py"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=5).read()
            except urllib.error.HTTPError:
                pass
            sent += 70 + len(path)
    finally:
        server.terminate()
        server.wait(timeout=10)
    log.seek(0)
    return log.read()


def big_json(chars: int = 3_200_000) -> str:
    inspect = json.loads(subprocess.run([sys.executable, "-m", "pip", "inspect"], capture_output=True, text=True).stdout)
    items: list[dict] = [{"package": i["metadata"]["name"], "version": i["metadata"]["version"],
                          "summary": i["metadata"].get("summary", ""), "requires": i["metadata"].get("requires_dist", [])}
                         for i in inspect["installed"]]
    size = len(json.dumps(items, indent=2))
    for base, _, files in os.walk(sys.prefix):
        for name in sorted(files):
            st = os.lstat(os.path.join(base, name))
            item = {"path": os.path.join(base, name), "size": st.st_size, "mode": oct(st.st_mode), "mtime": int(st.st_mtime)}
            size += len(json.dumps(item, indent=2)) + 8
            if size > chars:
                return json.dumps(items, indent=2) + "\n"
            items.append(item)
    return json.dumps(items, indent=2) + "\n"


def o200k():
    try:
        import quicktok

        enc = quicktok.get_encoding("o200k_base")
        return lambda text: len(enc.encode(text))
    except Exception:  # noqa: BLE001 - the bench still times without the tokenizer
        return None


def timed(comp: Compressor, text: str, repeats: int) -> dict:
    opts = CompressOptions(store=False)
    comp.compress(text[:20_000], opts)
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = comp.compress(text, opts)
        times.append(time.perf_counter() - t)
    count = o200k()
    row = {"chars": len(text), "median_s": round(statistics.median(times), 3),
           "range_s": [round(min(times), 3), round(max(times), 3)], "domain": result.stats.domain,
           "structure": result.stats.structure, "markers": result.stats.markers}
    if count:
        row |= {"o200k_in": count(text), "o200k_out": count(result.text)}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    comp = Compressor()
    rows = {"log_2mb": timed(comp, big_log(), args.repeats), "json_3mb": timed(comp, big_json(), args.repeats)}
    report = {"runtime": comp.runtime.name, "model": comp.model_id, "cores": os.cpu_count(), "repeats": args.repeats,
              "rows": rows}
    for name, row in rows.items():
        print(f"{name}: {row['chars']:,} chars, {row['median_s']} s (range {row['range_s']}), "
              f"{row['domain']}/{row['structure']}, {row.get('o200k_in')} -> {row.get('o200k_out')} o200k tokens")
    if args.json:
        reports.write(args.json, report)


if __name__ == "__main__":
    main()
