"""The format stage: ruff output, and its per-user cache that must never change a byte."""

from __future__ import annotations

import json
import subprocess
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


def _scratch_spy(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Record the folder each attempt puts ruff's scratch copy in."""
    attempts: list[str | None] = []
    real = fmt._run_ruff_in

    def spy(parent: str | None, files: dict[str, bytes], ruff: str) -> dict[str, bytes]:
        attempts.append(parent)
        return real(parent, files, ruff)

    monkeypatch.setattr(fmt, "_run_ruff_in", spy)
    return attempts


def test_the_scratch_copy_goes_to_a_memory_folder_and_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = tmp_path / "shm"
    memory.mkdir()
    monkeypatch.setattr(fmt, "SCRATCH_PARENTS", (str(tmp_path / "absent"), str(memory)))
    attempts = _scratch_spy(monkeypatch)
    out = fmt._run_ruff(SOURCES, fmt.find_ruff_bin())
    assert out["app/x.py"] == b'import os\nimport sys\n\nx = {"a": 1}\n'
    assert attempts == [str(memory)]
    assert list(memory.iterdir()) == []


def test_a_full_memory_folder_falls_back_to_the_default_with_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = tmp_path / "shm"
    memory.mkdir()
    monkeypatch.setattr(fmt, "SCRATCH_PARENTS", (str(memory),))
    attempts = _scratch_spy(monkeypatch)
    real_write = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:  # what a full tmpfs gives
        if memory in self.parents:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    out = fmt._run_ruff(SOURCES, fmt.find_ruff_bin())
    monkeypatch.undo()
    assert attempts == [str(memory), None]
    assert out == fmt._run_ruff_in(None, SOURCES, fmt.find_ruff_bin())
    assert list(memory.iterdir()) == []


def test_no_memory_folder_means_the_system_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fmt, "SCRATCH_PARENTS", (str(tmp_path / "absent"),))
    assert fmt._memory_scratch() == []
    attempts = _scratch_spy(monkeypatch)
    fmt._run_ruff(SOURCES, fmt.find_ruff_bin())
    assert attempts == [None]


def test_ruff_writes_no_cache_into_the_scratch_copy(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_bytes(SOURCES["app/x.py"])
    ruff = fmt.find_ruff_bin()
    for args in (fmt.RUFF_SORT_ARGS, fmt.RUFF_FORMAT_ARGS):
        subprocess.run([ruff, *args, "."], cwd=tmp_path, check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.py"]
