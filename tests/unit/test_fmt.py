"""The format stage: ruff output, and its per-user cache that must never change a byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hayhooks_gen import fmt
from hayhooks_gen.render import PACKAGE_MARKER

SOURCES = {
    "app/x.py": b"import sys\nimport os\nx = {'a':1}\n",
    "app/__init__.py": b"",
}


def test_cache_hit_gives_the_same_bytes_and_starts_no_ruff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = fmt.format_python(SOURCES)
    assert first["app/x.py"] == b'import os\nimport sys\n\nx = {"a": 1}\n'

    def no_ruff(files: dict[str, bytes], ruff: str) -> dict[str, bytes]:
        raise AssertionError("ruff ran although the cache holds this set")

    monkeypatch.setattr(fmt, "_run_ruff", no_ruff)
    assert fmt.format_python(SOURCES) == first


def test_a_corrupt_or_foreign_cache_entry_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = fmt.format_python(SOURCES)
    entry = next((tmp_path / "hayhooks-gen" / "ruff").glob("*.json"))
    for bad in ("{not json", json.dumps({"other.py": "x = 1\n"})):
        entry.write_text(bad, encoding="utf-8")
        assert fmt.format_python(SOURCES) == first


def test_an_unwritable_cache_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert fmt.format_python(SOURCES)["app/x.py"].startswith(b"import os\n")


def test_another_ruff_binary_misses_the_cache(tmp_path: Path) -> None:
    ruff = tmp_path / "ruff"
    ruff.write_bytes(b"one build")
    before = fmt._key(SOURCES, str(ruff))
    ruff.write_bytes(b"another build")  # an upgrade: other size and modification time
    assert fmt._key(SOURCES, str(ruff)) != before
    assert fmt._key({**SOURCES, "app/y.py": b""}, str(ruff)) != fmt._key(SOURCES, str(ruff))


def test_files_left_unformatted_are_already_as_ruff_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    marker = {"app/pipelines/p/__init__.py": PACKAGE_MARKER}
    assert fmt.format_python(marker) == marker
