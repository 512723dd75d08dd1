"""The store of omitted originals and ``whorf retrieve``: what a marker omitted comes back byte for byte."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from whorf.config import CompressOptions
from whorf.explain import structure_lines, to_html
from whorf.store import Store, handle_of, retrieve
from whorf.structure.markers import MARKER_LINE

from conftest import FIXTURES

LOG = (FIXTURES / "programs" / "http_server_log.txt").read_text()


@pytest.fixture()
def compressor(tiny_compressor, tmp_path):
    """The session's tiny compressor with a store of this test's own, put back afterwards."""
    before = tiny_compressor._store_obj
    tiny_compressor.store = Store(tmp_path / "store.sqlite")
    yield tiny_compressor
    tiny_compressor._store_obj = before


def test_put_get_roundtrip_and_expiry(tmp_path):
    store = Store(tmp_path / "s.sqlite", ttl_days=1)
    text = "line one\r\n\tline two ✓ 日本語\n"
    handle = store.put(text)
    assert handle == handle_of(text) and store.get(handle) == text and store.get(handle[6:]) == text
    assert store.get("whorf:00000000") is None
    expired = Store(tmp_path / "s.sqlite", ttl_days=1e-9)
    time.sleep(0.01)
    assert expired.get(handle) is None


def test_compressor_stores_what_its_markers_omit(compressor):
    tiny_compressor = compressor
    result = tiny_compressor.compress(LOG)
    assert result.markers and result.stats.markers == len(result.markers)
    marker_lines = [ln for ln in result.text.splitlines() if MARKER_LINE.match(ln)]
    assert len(marker_lines) == len(result.markers)
    for marker, omission in zip(result.markers, result.omissions):
        original = retrieve(marker.handle, tiny_compressor.store)
        assert original == omission.original and original in LOG
        assert marker.count == len(original.splitlines())
    assert result.stats.chars_out < 0.2 * result.stats.chars_in


def test_store_off_writes_nothing(compressor):
    tiny_compressor = compressor
    result = tiny_compressor.compress(LOG, CompressOptions(store=False))
    assert result.markers and tiny_compressor.store.get(result.markers[0].handle) is None


def test_explain_shows_structural_decisions(compressor):
    tiny_compressor = compressor
    result = tiny_compressor.compress(LOG)
    lines = structure_lines(result)
    assert any("collapsed" in ln and "whorf retrieve" in ln for ln in lines)
    assert any("kept" in ln for ln in lines)
    assert "Structural decisions" in to_html(result)


def test_cli_compress_then_retrieve(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    path = tmp_path / "access.log"
    path.write_text(LOG)
    out = subprocess.run([sys.executable, "-m", "whorf", "compress", str(path)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    marker = next(MARKER_LINE.match(ln) for ln in out.stdout.splitlines() if MARKER_LINE.match(ln))
    back = subprocess.run([sys.executable, "-m", "whorf", "retrieve", marker.group(3)], capture_output=True,
                          env=env, timeout=120)
    assert back.returncode == 0, back.stderr
    assert back.stdout.decode() in LOG and back.stdout.decode().count("\n") == int(marker.group(1))
    missing = subprocess.run([sys.executable, "-m", "whorf", "retrieve", "whorf:deadbeef"], capture_output=True,
                             text=True, env=env, timeout=120)
    assert missing.returncode == 2 and "no original stored" in missing.stderr


def test_a_corrupt_store_is_moved_aside_and_compression_goes_on(tiny_compressor, tmp_path, caplog):
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"not a database " * 500)
    before = tiny_compressor._store_obj
    tiny_compressor.store = Store(path)
    try:
        with caplog.at_level("WARNING", logger="whorf"):
            first = tiny_compressor.compress(LOG)
            second = tiny_compressor.compress(LOG)
        assert first.markers and first.text == second.text
        assert retrieve(first.markers[0].handle, tiny_compressor.store) == first.omissions[0].original
        assert [p.name for p in tmp_path.glob("store.sqlite.corrupt-*")]  # the broken file is kept aside
        warnings = [r.getMessage() for r in caplog.records if "store" in r.getMessage()]
        assert len(warnings) == 1 and str(path) in warnings[0]
    finally:
        tiny_compressor._store_obj = before


def test_a_locked_or_unwritable_store_never_stops_compression(tiny_compressor, tmp_path, caplog):
    import sqlite3

    path = tmp_path / "store.sqlite"
    Store(path).put("warm")
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the store
    before = tiny_compressor._store_obj
    tiny_compressor.store = Store(path)
    try:
        with caplog.at_level("WARNING", logger="whorf"):
            started = time.perf_counter()
            result = tiny_compressor.compress(LOG)
            again = tiny_compressor.compress(LOG)  # skipped at once after the failure, not waited on again
            elapsed = time.perf_counter() - started
        assert result.markers and result.text == again.text
        assert elapsed < 4 * 2.0
        assert sum("could not be written" in r.getMessage() for r in caplog.records) == 1
    finally:
        holder.rollback()
        holder.close()
        tiny_compressor._store_obj = before
    unwritable = Store(tmp_path / "a-directory")
    (tmp_path / "a-directory").mkdir()
    assert unwritable.put("x").startswith("whorf:") and unwritable.get(unwritable.put("x")) is None


def test_whorf_store_commands_name_the_file_check_and_reset(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    whorf = [sys.executable, "-m", "whorf"]

    def run(*args):
        return subprocess.run([*whorf, *args], capture_output=True, text=True, env=env, timeout=120)

    path = run("store", "path").stdout.strip()
    assert path == str(tmp_path / "whorf" / "store.sqlite")
    Path(path).parent.mkdir(parents=True)
    Path(path).write_bytes(b"garbage" * 100)
    bad = run("store", "check")
    assert bad.returncode == 1 and path in bad.stderr and "whorf store reset" in bad.stderr
    assert run("store", "reset").returncode == 0 and not Path(path).exists()
    assert run("store", "check").returncode == 0
    log = tmp_path / "app.log"
    log.write_text(LOG)
    assert run("compress", str(log)).returncode == 0
    assert json.loads(run("store", "stats").stdout)["rows"] >= 1


def test_a_damaged_original_is_never_handed_back(tmp_path, caplog):
    import sqlite3

    store = Store(tmp_path / "s.sqlite")
    handle = store.put("src/app/events.py\n" * 40)
    store.close()
    with sqlite3.connect(tmp_path / "s.sqlite") as db:  # flip bytes inside the stored body
        db.execute("UPDATE originals SET body = ? WHERE handle = ?", (("src/app/EVILS.py\n" * 40).encode(), handle))
    with caplog.at_level("WARNING", logger="whorf"):
        assert Store(tmp_path / "s.sqlite").get(handle) is None
    assert any("damaged" in r.getMessage() for r in caplog.records)


def test_a_directory_in_the_stores_place_is_reported_not_deleted(tmp_path):
    (tmp_path / "store.sqlite").mkdir()
    store = Store(tmp_path / "store.sqlite")
    assert "not a file" in store.check()
    with pytest.raises(IsADirectoryError):
        store.reset()
    assert (tmp_path / "store.sqlite").is_dir() and store.put("x").startswith("whorf:")
