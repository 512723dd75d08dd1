"""The shared lexicon: patterns more than one module needs, defined once.

What a word is (a run of non-whitespace), what a line is (through its newline), JSON's insignificant
whitespace, and the shapes of ids that many outputs share: a UUID, an IPv4 address (with its port). The
router, the structure modules, the must-keep profile's Python side and the proxy's body scanner import them
from here; ``tests/test_architecture.py`` fails when a module compiles one of them again.
"""

from __future__ import annotations

import re

WORD = re.compile(r"\S+")  # a word: what segmentation, the profiles and the stats call one
LINE = re.compile(r"[^\n]*\n|[^\n]+")  # a line with its newline (the last one may have none)
JSON_WS = re.compile(r"[ \t\n\r]*")  # whitespace between JSON tokens (RFC 8259)
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?"  # with an optional port
