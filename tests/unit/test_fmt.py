"""The format stage: ruff output, and its per-user cache that must never change a byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hayhooks_gen import fmt

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

    def no_ruff(files: dict[str, bytes]) -> dict[str, bytes]:
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
