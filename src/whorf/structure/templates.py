"""Log templates: which lines are the same message with different variables.

Template mining is drain3's (a maintained implementation of Drain, He et al., ICWS 2017), with a fresh
miner per input so the result depends only on the text. Variables that Drain would otherwise need many
lines to learn (numbers, hex, IPs, UUIDs, paths, quoted strings, key=value values) are masked first.
"""

from __future__ import annotations

import logging
import re
from typing import Sequence
from whorf.lexicon import IPV4, UUID

_MASKS = [
    (re.compile(rf"\b{UUID}\b"), "<UUID>"),
    (re.compile(rf"\b{IPV4}\b"), "<IP>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<HEX>"),
    (re.compile(r"\b[0-9a-f]{12,}\b"), "<HEX>"),
    (re.compile(r"(?<![\w.])[-+]?\d+(?:[.:,]\d+)*(?![\w.])"), "<NUM>"),
    (re.compile(r"\"[^\"]{0,200}\"|'[^']{0,200}'"), "<STR>"),
]
MAX_LINE = 2000  # characters of a line the miner sees


def mask(line: str) -> str:
    line = line[:MAX_LINE]
    for regex, token in _MASKS:
        line = regex.sub(token, line)
    return line


def _miner():
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    logging.getLogger("drain3").setLevel(logging.WARNING)
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.drain_sim_th = 0.5
    config.drain_depth = 4
    config.parametrize_numeric_tokens = True
    return TemplateMiner(config=config)


def cluster(lines: Sequence[str]) -> list[int]:
    """A template id per line (0 for blank lines); ids are in order of first appearance."""
    miner = _miner()
    ids: list[int] = []
    for line in lines:
        masked = mask(line).strip()
        if not masked:
            ids.append(0)
            continue
        ids.append(miner.add_log_message(masked)["cluster_id"])
    return ids
