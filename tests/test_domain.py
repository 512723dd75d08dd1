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
    ("", "text"),
])
def test_detect(text, domain):
    assert detect(text) == domain
