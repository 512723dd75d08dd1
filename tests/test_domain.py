import json

import pytest

from whorf.domain import detect

from conftest import FIXTURES, TRACEBACK


@pytest.mark.parametrize("text,domain", [
    ("diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a\n+b", "diff"),
    ((FIXTURES / "app.log").read_text(), "log"),
    (TRACEBACK, "log"),
    (json.dumps({"a": [1, 2], "b": {"c": None}}, indent=2), "json"),
    ("total 12\ndrwxr-xr-x  2 u g 4096 src\n-rw-r--r--  1 u g 120 README.md", "tree"),
    (".\n├── src\n│   └── main.rs\n└── Cargo.toml", "tree"),
    ("import os\n\ndef main():\n    return os.getcwd()\n\nclass A:\n    pass", "code"),
    ("The quick brown fox jumps over the lazy dog. It was a sunny day.", "text"),
    ("Searching the codebase\nsrc/app/auth.py:167: def emit(self):\nsrc/app/core.py:235:     raise X('e')\n2 matches", "code"),
    ("Reading file app.py\n93: import storage\n98: from storage import a\n105: def f(self):\n106:     return 1", "code"),
    ("Caught by the handler\nerror TS1167: Cannot find module 'x'\n  at /srv/db.rs:460:7\n  at writeLog (/srv/q.ts:167:7)", "log"),
    ("The tool call returned the following response\n{\n  \"status\": 502,\n  \"items\": []\n}", "json"),
    ("", "text"),
])
def test_detect(text, domain):
    assert detect(text) == domain
