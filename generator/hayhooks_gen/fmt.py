"""Stage 4: format generated Python with ruff, isolated from any user configuration.

Formatting is a pure function of the files given (paths and contents), the ruff binary and
the settings below, so its result is cached per user: a ``check`` or a no-op ``build`` of
unchanged input then starts no ruff process. The cache only ever saves time; a missing,
unreadable or unwritable cache means ruff runs, and the output is the same bytes.

The binary is identified by its path, size and modification time (a reinstall or upgrade
changes them), not by its package version: reading package metadata imports
``importlib.metadata``, which costs more than a cached ``check`` does otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

from ruff.__main__ import find_ruff_bin

# Explicit settings: a user's pyproject or ruff.toml can never change the output. No ruff
# cache: the scratch copy it would be written into is deleted right after.
_SETTINGS = (
    "--isolated",
    "--no-cache",
    "--line-length",
    "100",
    "--target-version",
    "py311",
    "--quiet",
)
RUFF_SORT_ARGS = ("check", *_SETTINGS, "--select", "I", "--fix", "--exit-zero")
RUFF_FORMAT_ARGS = ("format", *_SETTINGS)
CACHE_ENTRIES = 64  # newest formatted sets kept per user
# Memory-backed, where there is one: the scratch copy is written, read once and deleted, and
# on a disk that costs a third of ruff's time (a 100-pipeline service: 48 -> 31 ms here).
SCRATCH_PARENTS = ("/dev/shm",)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hayhooks-gen" / "ruff"


def _ruff_identity(ruff: str) -> str:
    info = os.stat(ruff)
    return f"{os.path.realpath(ruff)}:{info.st_size}:{info.st_mtime_ns}"


def _key(files: dict[str, bytes], ruff: str) -> str:
    digest = hashlib.sha256()
    for part in (_ruff_identity(ruff), *RUFF_SORT_ARGS, *RUFF_FORMAT_ARGS):
        digest.update(part.encode() + b"\0")
    for rel in sorted(files):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return digest.hexdigest()


def _cached(key: str, files: dict[str, bytes]) -> dict[str, bytes] | None:
    try:
        data = json.loads((_cache_dir() / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or sorted(data) != sorted(files):
        return None
    return {rel: str(data[rel]).encode("utf-8") for rel in files}


def _store(key: str, formatted: dict[str, bytes]) -> None:
    folder = _cache_dir()
    with contextlib.suppress(OSError, UnicodeDecodeError):
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps({rel: content.decode("utf-8") for rel, content in formatted.items()})
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.rename(tmp, folder / f"{key}.json")  # atomic on POSIX; replaces an older entry
        entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[CACHE_ENTRIES:]:
            old.unlink(missing_ok=True)


def _memory_scratch() -> list[str]:
    """Memory-backed folders ruff's scratch copy may go in, best first."""
    return [d for d in SCRATCH_PARENTS if os.path.isdir(d) and os.access(d, os.W_OK | os.X_OK)]


def _run_ruff(files: dict[str, bytes], ruff: str) -> dict[str, bytes]:
    for parent in _memory_scratch():
        try:
            return _run_ruff_in(parent, files, ruff)
        except OSError:  # full (a small /dev/shm in a container, say): the system default
            continue
    return _run_ruff_in(None, files, ruff)


def _run_ruff_in(parent: str | None, files: dict[str, bytes], ruff: str) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="hayhooks-gen-fmt-", dir=parent) as tmp:
        root = Path(tmp)
        for rel, content in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        for args in (RUFF_SORT_ARGS, RUFF_FORMAT_ARGS):
            proc = subprocess.run(
                [ruff, *args, "."], cwd=root, capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                raise RuntimeError(f"ruff failed on generated code:\n{proc.stderr.strip()}")
        return {rel: (root / rel).read_bytes() for rel in files}


def format_python(files: dict[str, bytes]) -> dict[str, bytes]:
    """Format every file (path -> source) together; returns the formatted sources."""
    if not files:
        return {}
    ruff = find_ruff_bin()
    key = _key(files, ruff)
    formatted = _cached(key, files)
    if formatted is None:
        formatted = _run_ruff(files, ruff)
        _store(key, formatted)
    return formatted
