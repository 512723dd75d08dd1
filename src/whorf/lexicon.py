"""The shared lexicon: patterns more than one module needs, defined once.

What a word is (a run of non-whitespace), what a line is (through its newline), JSON's insignificant
whitespace, the shapes of ids that many outputs share (a UUID, an IPv4 address with its port), and the line
shapes the router and the structure modules both test: a Markdown code fence and list item, a line number (``cat -n``,
Claude Code's ``N→``), a log line's timestamp and level, a line that is one path. The router, the structure
modules, the must-keep profile's Python side and the proxy's body scanner import them from here;
``tests/test_architecture.py`` fails when a module compiles one of them again, or when the default
profile's UUID differs from this one.
"""

from __future__ import annotations

import re

WORD = re.compile(r"\S+")  # a word: what segmentation, the profiles and the stats call one
LINE = re.compile(r"[^\n]*\n|[^\n]+")  # a line with its newline (the last one may have none)
JSON_WS = re.compile(r"[ \t\n\r]*")  # whitespace between JSON tokens (RFC 8259)
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?"  # with an optional port

# Line shapes the router and the structure modules both test.
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")  # a Markdown fenced code block opens or closes
LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s+(.*)$")  # a Markdown list item: its bullet, then its text
NUMBERED = re.compile(r"^\s*\d+(?:→|\t|: |\| )")  # a line number: cat -n, Claude Code's Read (N→), N: and N|
TIMESTAMP = re.compile(  # a log line's leading timestamp: 2024-01-01, 12:04:33, 20171223-22:, Jun  9 06:06
    r"^\s*\[?(\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{2}:\d{2}:\d{2}|\d{8}-\d{2}:|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2})"
)
LEVEL = re.compile(  # a log level word, level=..., or Android logcat's "date time pid tid L " layout
    r"\b(ERROR|WARN|WARNING|INFO|DEBUG|TRACE|FATAL|CRITICAL)\b|\blevel=\w+|^\S+ \S+\s+\d+\s+\d+ [VDIWEF] "
)
PATH_LINE = re.compile(  # a line that is one path (find, ls -1, git ls-files): a/b/c, ./x, name.ext
    r"^\.?\.?/?[\w@+-]+(\.[\w-]+)*(/[\w@+.-]+)+/?$|^[\w@+-]+\.[A-Za-z]\w{0,7}$"
)
