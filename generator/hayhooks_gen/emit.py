"""Stage 5: write the generated project, or compare it with what is on disk.

The manifest ``.hayhooks-gen.json`` lists every generated path with its sha256. Only paths
in the previous manifest are ever replaced or deleted; user files are never touched.
Writes are staged in a temporary folder inside the output folder and moved into place
with ``os.replace``, the manifest last, so a failure before the moves leaves OUT as it was.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hayhooks_gen import __version__
from hayhooks_gen.build import Output
from hayhooks_gen.diagnostics import UsageError
from hayhooks_gen.render import HEADER, HEADER_TEXT

MANIFEST = ".hayhooks-gen.json"
LOCK = ".hayhooks-gen.lock"
STAGING_PREFIX = ".hayhooks-gen-staging-"


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def manifest_bytes(output: Output) -> bytes:
    data = {
        "generator": "hayhooks-gen",
        "version": __version__,
        "files": {path: sha256(content) for path, content in sorted(output.generated.items())},
        "user_owned": sorted(output.user_owned),
    }
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


@dataclass(frozen=True)
class Manifest:
    files: dict[str, str]
    user_owned: tuple[str, ...]


def _safe_relpath(path: str) -> bool:
    pure = PurePosixPath(path)
    return bool(path) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in path


def read_manifest(out: Path) -> Manifest | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        user_owned = data.get("user_owned", [])
        valid = (
            data.get("generator") == "hayhooks-gen"
            and isinstance(files, dict)
            and all(
                isinstance(k, str) and isinstance(v, str) and _safe_relpath(k)
                for k, v in files.items()
            )
            and isinstance(user_owned, list)
            and all(isinstance(p, str) and _safe_relpath(p) for p in user_owned)
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(
            f"{path}: the manifest is not valid hayhooks-gen JSON ({exc}); fix or remove it"
        ) from exc
    if not valid:
        raise UsageError(
            f"{path}: the manifest was modified (unexpected entries); restore it or remove it"
        )
    return Manifest(dict(files), tuple(user_owned))


def _is_generated_by_us(content: bytes) -> bool:
    head = content[:200]
    return HEADER.encode() in head or HEADER_TEXT.encode() in head


def _has_user_content(out: Path) -> bool:
    return any(e.name != LOCK and not e.name.startswith(STAGING_PREFIX) for e in out.iterdir())


@dataclass
class Plan:
    writes: dict[str, bytes] = field(default_factory=dict)
    creates: dict[str, bytes] = field(default_factory=dict)  # user-owned, missing
    deletes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # stale, but edited or not ours: left alone
    manifest: bytes = b""
    manifest_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (self.writes or self.creates or self.deletes or self.manifest_changed)


def plan(out: Path, output: Output, *, force: bool = False) -> Plan:
    previous = read_manifest(out) if out.exists() else None
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: output path exists and is not a folder")
    if previous is None and out.exists() and _has_user_content(out) and not force:
        raise UsageError(
            f"{out}: folder is not empty and has no {MANIFEST}; pass --force to generate into it "
            "(files that hayhooks-gen did not generate are still never overwritten)"
        )
    owned = previous.files if previous else {}
    result = Plan()
    conflicts: list[str] = []
    for rel, content in output.generated.items():
        target = out / rel
        if not target.exists():
            result.writes[rel] = content
            continue
        if target.is_dir():
            conflicts.append(rel)
            continue
        current = target.read_bytes()
        if current == content:
            continue
        if rel in owned or (force and _is_generated_by_us(current)):
            result.writes[rel] = content
        else:
            conflicts.append(rel)
    if conflicts:
        listed = "\n".join(f"  {c}" for c in sorted(conflicts))
        raise UsageError(
            f"{out}: refusing to overwrite files hayhooks-gen did not generate:\n{listed}\n"
            "move them away, or delete them if they are stale"
        )
    for rel, content in output.user_owned.items():
        if not (out / rel).exists():
            result.creates[rel] = content
    copies = f"{output.service.package}/pipelines/"
    for rel, digest in sorted(owned.items()):
        if rel in output.generated:
            continue
        target = out / rel
        if not target.is_file():
            continue
        content = target.read_bytes()
        # Delete only what is provably ours: unedited, and a generated file (its header says
        # so) or a wrapper copy. A manifest entry alone is not proof: it can be hand-edited.
        ours = _is_generated_by_us(content) or rel.startswith(copies)
        if sha256(content) == digest and ours:
            result.deletes.append(rel)
        else:
            result.kept.append(rel)
    result.manifest = manifest_bytes(output)
    manifest_path = out / MANIFEST
    result.manifest_changed = (
        not manifest_path.is_file() or manifest_path.read_bytes() != result.manifest
    )
    return result


def _lock_holder_alive(lock: Path) -> bool:
    """Whether the process named in the lock file still runs (a killed build leaves its lock)."""
    try:
        pid = int(lock.read_text().strip() or "0")
    except (OSError, ValueError):
        return True  # unreadable: better refuse than break someone's build
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """One build at a time per output folder; a lock left by a dead build is taken over."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: output path exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK
    for attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError as exc:
            if attempt == 0 and not _lock_holder_alive(lock):
                lock.unlink(missing_ok=True)
                continue
            raise UsageError(
                f"{lock}: another hayhooks-gen build is writing this folder; "
                "if none is running, delete the lock file"
            ) from exc
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        # Staging folders left by a build that was killed mid-write hold nothing of value.
        for leftover in out.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        yield
    finally:
        lock.unlink(missing_ok=True)


def apply(out: Path, result: Plan) -> None:
    """Stage every new file, then move them into place, the manifest last.

    Each file a move replaces or deletes is first moved aside into the staging folder; if
    anything fails, every step taken is undone in reverse order, so OUT is left as it was.
    Files are not fsynced one by one (that cost more than all other work together); a
    power loss mid-build can leave files the next build rewrites, since the manifest says
    what each should hold.
    """
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    done: list[tuple[Path, Path | None]] = []  # (target, its previous content moved aside)
    created_dirs: list[Path] = []
    try:
        moves: list[tuple[Path | None, Path]] = []
        contents = [*result.writes.items(), *result.creates.items(), (MANIFEST, result.manifest)]
        for index, (rel, content) in enumerate(contents):
            new = staging / f"new-{index}"
            new.write_bytes(content)
            moves.append((new, out / rel))
        # deletions go before the manifest, which is always the last move
        moves[-1:-1] = [(None, out / rel) for rel in result.deletes]
        for index, (staged, target) in enumerate(moves):
            backup: Path | None = None
            if target.exists():
                backup = staging / f"old-{index}"
                os.replace(target, backup)
            elif staged is not None:
                created_dirs.extend(_make_parents(out, target.parent))
            done.append((target, backup))
            if staged is not None:
                os.replace(staged, target)
    except BaseException:
        for target, backup in reversed(done):
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
        for directory in reversed(created_dirs):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for rel in result.deletes:
        _prune_empty_dirs(out, (out / rel).parent)


def _make_parents(out: Path, directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents below ``out``; return them, outermost first."""
    missing: list[Path] = []
    while directory != out and not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


def _prune_empty_dirs(out: Path, directory: Path) -> None:
    while directory != out and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


@dataclass(frozen=True)
class Drift:
    missing: list[str]
    extra: list[str]
    changed: list[str]
    diff: str

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.changed)


def check(out: Path, output: Output) -> Drift:
    """Compare ``out`` with what ``build`` would write; writes nothing."""
    previous = read_manifest(out) if out.is_dir() else None
    missing: list[str] = []
    changed: list[str] = []
    diff_parts: list[str] = []
    expected = {**output.generated, MANIFEST: manifest_bytes(output)}
    for rel, content in sorted(expected.items()):
        target = out / rel
        if not target.is_file():
            missing.append(rel)
            continue
        current = target.read_bytes()
        if current != content:
            changed.append(rel)
            diff_parts.append(_diff(rel, current, content))
    for rel in sorted(output.user_owned):
        if not (out / rel).exists():
            missing.append(rel)
    extra = sorted(
        rel
        for rel in (previous.files if previous else {})
        if rel not in output.generated and (out / rel).is_file()
    )
    return Drift(missing, extra, changed, "".join(diff_parts))


def _diff(rel: str, current: bytes, expected: bytes) -> str:
    try:
        old = current.decode("utf-8").splitlines(keepends=True)
        new = expected.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return f"Binary files a/{rel} and b/{rel} differ\n"
    lines = difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}")
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
