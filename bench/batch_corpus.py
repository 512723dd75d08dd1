"""The mixed corpus the batch benchmark and its tests run on: real program outputs, the shared training
rows as they are (whatever their fields: rows without a text field pass through, as they would in a real job)
and LogHub logs in windows of 200 lines, repeated in a fixed order to the number of rows asked for.

    python bench/batch_corpus.py --rows 100000 --out /tmp/whorf-batch/corpus.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
LOG_WINDOW = 200


def base_rows() -> list[bytes]:
    """One pass over the sources, as JSON lines."""
    rows: list[bytes] = []
    for txt in sorted((REPO / "tests" / "fixtures" / "programs").glob("*.txt")):
        rows.append(json.dumps({"text": txt.read_text(errors="surrogateescape"), "source": txt.stem},
                               ensure_ascii=False).encode("utf-8", "surrogateescape"))
    for path in sorted((SHARED / "ultrawhale").glob("*.jsonl")):
        rows.extend(line for line in path.read_bytes().split(b"\n") if line)
    for log in sorted((SHARED / "loghub").glob("*/*.log")):
        lines = log.read_text(errors="replace").splitlines()
        for start in range(0, len(lines), LOG_WINDOW):
            rows.append(json.dumps({"text": "\n".join(lines[start:start + LOG_WINDOW]), "source": log.stem}).encode())
    return rows


def write(rows: int, out: Path) -> Path:
    base = base_rows()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        for i in range(rows):
            f.write(base[i % len(base)] + b"\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/whorf-batch/corpus.jsonl"))
    args = parser.parse_args()
    print(write(args.rows, args.out))


if __name__ == "__main__":
    main()
