"""`hayhooks-gen build --watch`: rebuild when the wrappers folder changes.

Polls the modification times and sizes of the files under the wrappers folder (stdlib only,
a bounded interval), waits until they have stopped changing for the debounce time, then
rebuilds. Every wait is bounded; Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Files that change without changing the output (editor swap files, bytecode).
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".swp", ".swx", "~")
MIN_INTERVAL_S = 0.05
MAX_INTERVAL_S = 10.0
# A burst of edits longer than this many debounce periods is rebuilt anyway.
MAX_SETTLE_ROUNDS = 20

Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path, exclude: Path | None = None) -> Snapshot:
    """``relative path -> (mtime_ns, size)`` of every file under ``root``."""
    state: Snapshot = {}
    excluded = exclude.resolve() if exclude is not None else None
    for current, dirs, files in os.walk(root):
        here = Path(current)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in _SKIPPED_DIRS and (excluded is None or (here / d).resolve() != excluded)
        )
        for name in files:
            if name.endswith(_SKIPPED_SUFFIXES):
                continue
            path = here / name
            try:
                stat = path.stat()
            except OSError:  # removed while we looked
                continue
            state[path.relative_to(root).as_posix()] = (stat.st_mtime_ns, stat.st_size)
    return state


def describe_change(before: Snapshot, after: Snapshot) -> str:
    changed = sorted({p for p in before.keys() | after.keys() if before.get(p) != after.get(p)})
    shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    return shown or "folder"


@dataclass(frozen=True)
class WatchSettings:
    interval: float = 0.5
    debounce: float = 0.3
    max_rebuilds: int | None = None  # for tests: stop after this many rebuilds
    timeout: float | None = None  # for tests: stop after this many seconds


def clamp_interval(seconds: float) -> float:
    return min(max(seconds, MIN_INTERVAL_S), MAX_INTERVAL_S)


def watch(
    root: Path,
    rebuild: Callable[[str], None],
    settings: WatchSettings,
    *,
    exclude: Path | None = None,
    on_ready: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Call ``rebuild(reason)`` after each settled change under ``root``; return the count.

    ``on_ready`` is called once the starting state is recorded: changes from then on are seen.
    Returns when ``max_rebuilds`` or ``timeout`` is reached; KeyboardInterrupt propagates.
    """
    interval = clamp_interval(settings.interval)
    debounce = clamp_interval(settings.debounce)
    deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
    rebuilds = 0
    last = snapshot(root, exclude)
    if on_ready is not None:
        on_ready()
    while settings.max_rebuilds is None or rebuilds < settings.max_rebuilds:
        if deadline is not None and time.monotonic() >= deadline:
            break
        sleep(interval)
        current = snapshot(root, exclude)
        if current == last:
            continue
        for _ in range(MAX_SETTLE_ROUNDS):  # debounce: wait until the files stop changing
            sleep(debounce)
            settled = snapshot(root, exclude)
            if settled == current:
                break
            current = settled
        reason = describe_change(last, current)
        last = current
        rebuild(reason)
        rebuilds += 1
    return rebuilds
