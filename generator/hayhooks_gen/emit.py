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
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hayhooks_gen import __version__
from hayhooks_gen.build import Output
from hayhooks_gen.diagnostics import UsageError
from hayhooks_gen.render import HEADER, HEADER_TEXT

MANIFEST = ".hayhooks-gen.json"
LOCK = ".hayhooks-gen.lock"
STAGING_PREFIX = ".hayhooks-gen-staging-"
# a staging folder kept because undoing a failed build failed: it holds the backups
BACKUP_PREFIX = ".hayhooks-gen-backup-"


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


MAX_NAME_BYTES = 255


def _normal_relpath(path: str) -> bool:
    """Whether ``path`` is a relative POSIX path in normal form, as ``manifest_bytes`` writes.

    Anything else is refused, not normalised: an alias such as ``app/./x.py`` names a file
    that is also listed under its real name, and a build would delete it as stale.
    """
    return (
        bool(path)
        and "\\" not in path
        and "\x00" not in path
        and all(part not in ("", ".", "..") for part in path.split("/"))
        # no file system here takes a longer name; asking it about one is an error (ENAMETOOLONG)
        and all(
            len(part.encode("utf-8", "surrogatepass")) <= MAX_NAME_BYTES for part in path.split("/")
        )
    )


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """JSON object hook: a key given twice is refused (``json`` would keep the last silently)."""
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _manifest_problem(data: Any) -> str | None:
    """What is wrong with a decoded manifest, or None when it is well formed."""
    files = data["files"]
    user_owned = data.get("user_owned", [])
    if data.get("generator") != "hayhooks-gen" or not isinstance(files, dict):
        return "unexpected entries"
    if not all(isinstance(v, str) for v in files.values()) or not isinstance(user_owned, list):
        return "unexpected entries"
    if not all(isinstance(p, str) for p in user_owned):
        return "unexpected entries"
    for rel in [*files, *user_owned]:
        if not _normal_relpath(rel):
            return f"path {rel!r} is not a relative POSIX path in normal form"
    listed = [*files, *user_owned]
    if len(set(listed)) != len(listed):
        twice = sorted({rel for rel in listed if listed.count(rel) > 1})
        return f"path {twice[0]!r} is listed twice"
    return None


def read_manifest(out: Path) -> Manifest | None:
    path = out / MANIFEST
    if not os.path.lexists(path):
        return None
    if not path.is_file():
        # A folder (or anything else) there is the user's: treating it as "no manifest" would
        # let ``--force`` move it aside, and everything in it, to write the manifest.
        raise UsageError(
            f"{path}: the manifest path exists but is not a regular file; move it away"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
        problem = _manifest_problem(data)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise UsageError(
            f"{path}: the manifest is not valid hayhooks-gen JSON ({exc}); fix or remove it"
        ) from exc
    if problem is not None:
        raise UsageError(f"{path}: the manifest was modified ({problem}); restore it or remove it")
    return Manifest(dict(data["files"]), tuple(data.get("user_owned", [])))


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
    # folders where a generated file goes that hold only files this build deletes (and
    # folders of such files), deepest first: removed once emptied, before the file is written
    removed_dirs: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # stale, but edited or not ours: left alone
    # stale and already gone (a killed build deleted them): their empty folders are pruned
    vanished: list[str] = field(default_factory=list)
    # folders the build leaves empty (of deleted and vanished files), deepest first: removed
    # before the manifest is moved, as undoable steps like every other change
    pruned_dirs: list[str] = field(default_factory=list)
    manifest: bytes = b""
    manifest_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (self.writes or self.creates or self.deletes or self.manifest_changed)

    @property
    def changed(self) -> list[str]:
        """Every file ``apply`` writes, creates or removes, the manifest included when it is
        rewritten (a hand-edited manifest alone is a change): what a summary should count."""
        manifest = [MANIFEST] if self.manifest_changed else []
        return sorted({*self.writes, *self.creates, *self.deletes, *manifest})


def _symlinks_on_the_way(out: Path, paths: list[str]) -> set[str]:
    """The first symlink among each of ``paths`` and its folders below ``out`` (relative).

    A write, move or delete through such a link would change files outside ``out`` (the
    user's wrappers, say), so the build refuses instead of following it. Each folder is
    looked at once, however many paths go through it.
    """
    kinds: dict[str, bool | None] = {}  # prefix -> is a link; None: absent
    links: set[str] = set()
    base = os.fspath(out) + os.sep
    for rel in paths:
        start = 0
        while start >= 0:
            end = rel.find("/", start)
            prefix = rel if end < 0 else rel[:end]
            start = end if end < 0 else end + 1
            if prefix not in kinds:
                try:
                    kinds[prefix] = stat.S_ISLNK(os.lstat(base + prefix).st_mode)
                except OSError:  # absent (or unreadable): nothing deeper exists to follow
                    kinds[prefix] = None
            kind = kinds[prefix]
            if kind is None:
                break
            if kind:
                links.add(prefix)
                break
    return links


def _walk(out: Path, parts: list[str]) -> Iterator[tuple[str, Path]]:
    """Each prefix of ``parts`` below ``out`` (relative, and as a path), outermost first,
    up to the first that does not exist: nothing deeper can."""
    current = out
    for depth, part in enumerate(parts, start=1):
        current = current / part
        yield "/".join(parts[:depth]), current
        if not os.path.lexists(current):
            return


def _touched_paths(out: Path, output: Output, owned: dict[str, str]) -> list[str]:
    """Every path below ``out`` a build may write, move aside or delete."""
    # A user-owned path is written only when absent (a link counts as present: left alone).
    creatable = [rel for rel in output.user_owned if not os.path.lexists(out / rel)]
    return [MANIFEST, *output.generated, *creatable, *owned]


def _refuse_symlinks(out: Path, paths: list[str]) -> None:
    links = _symlinks_on_the_way(out, paths)
    if links:
        listed = "\n".join(f"  {link}" for link in sorted(links))
        raise UsageError(
            f"{out}: refusing to write or delete through symlinks inside the output folder:\n"
            f"{listed}\nreplace them with real files or folders, or remove them"
        )


def _non_folder_parent(out: Path, rel: str) -> str | None:
    """The first folder of ``rel`` below ``out`` that exists but is not a folder (a file)."""
    folders = _walk(out, rel.split("/")[:-1])
    return next((prefix for prefix, path in folders if path.exists() and not path.is_dir()), None)


def _refuse_files_in_the_way(out: Path, result: Plan) -> None:
    """Refuse, before any move, when a folder the build must create is taken by a file.

    Only a file the plan deletes anyway (a stale, provably generated one) may be in the way:
    ``apply`` deletes before it writes. Anything else is the user's, and is never replaced.
    """
    deleted = set(result.deletes)
    blocked: dict[str, str] = {}  # the file in the way -> one path that needs it as a folder
    for rel in sorted([*result.writes, *result.creates]):
        blocker = _non_folder_parent(out, rel)
        if blocker is not None and blocker not in deleted:
            blocked.setdefault(blocker, rel)
    if blocked:
        listed = "\n".join(f"  {b} (a folder is needed for {rel})" for b, rel in blocked.items())
        raise UsageError(
            f"{out}: refusing to replace files hayhooks-gen did not generate with folders:\n"
            f"{listed}\nmove them away, or delete them if they are stale"
        )


def _folders_of(paths: Iterable[str]) -> set[str]:
    """Every folder that holds one of ``paths`` (relative), at any depth."""
    return {path.rsplit("/", depth)[0] for path in paths for depth in range(1, path.count("/") + 1)}


def _folder_of_stale_files(
    out: Path, rel: str, deleted: set[str], owned_dirs: set[str]
) -> list[str] | None:
    """The folders to remove, deepest first, so a generated file can take the place of the
    folder ``rel``; None when that folder is not provably ours to remove.

    It is when it holds only files this build deletes (stale, unedited, generated) and
    folders of the same kind, each named by the previous manifest. Anything else in it (a
    user file, a link, an empty folder no generated path ever went through, a folder that
    cannot be listed) is the user's, and the build is refused.
    """
    if rel not in owned_dirs:
        return None
    unreadable: list[OSError] = []
    folders: list[str] = []
    for dirpath, dirnames, filenames in os.walk(out / rel, onerror=unreadable.append):
        here = Path(dirpath).relative_to(out).as_posix()
        folders.append(here)
        for name in dirnames:
            if f"{here}/{name}" not in owned_dirs or os.path.islink(os.path.join(dirpath, name)):
                return None
        if any(f"{here}/{name}" not in deleted for name in filenames):
            return None
    return None if unreadable else folders[::-1]


def _emptied_folders(out: Path, result: Plan) -> list[str]:
    """The folders this build leaves empty, deepest first: each holds nothing but files it
    deletes and folders of the same kind, and no new file goes into it."""
    gone = {*result.deletes, *result.removed_dirs}
    filled = _folders_of([*result.writes, *result.creates])
    candidates = _folders_of([*result.deletes, *result.vanished]) - filled - gone
    emptied: list[str] = []
    for rel in sorted(candidates, key=lambda folder: (-folder.count("/"), folder)):
        path = out / rel
        if path.is_symlink() or not path.is_dir():
            continue
        try:
            names = os.listdir(path)
        except OSError:  # cannot be listed: cannot be proved empty, so it stays
            continue
        if all(f"{rel}/{name}" in gone for name in names):
            gone.add(rel)
            emptied.append(rel)
    return emptied


def _nearest_folder(out: Path, path: Path) -> Path:
    """``path`` if it is a folder, else its nearest parent that is (``apply`` makes the rest,
    once the deletions have moved a stale file that takes a folder's place out of the way)."""
    while path != out and not path.is_dir():
        path = path.parent
    return path


def _refuse_unwritable_folders(out: Path, result: Plan) -> None:
    """Refuse, before any move, when a folder the build must change cannot be changed.

    Each file written, moved aside or deleted and each folder made or removed changes the
    folder holding it; without write (and search) permission there, the move would fail
    halfway, or, for an emptied folder, after every file was already in place.
    """
    needs: dict[Path, str] = {}  # folder -> one change the build makes in it
    for rel in result.deletes:
        needs.setdefault((out / rel).parent, f"to delete {rel}")
    for rel in [*result.removed_dirs, *result.pruned_dirs]:
        needs.setdefault((out / rel).parent, f"to remove the empty folder {rel}")
    for rel in [*result.writes, *result.creates]:
        needs.setdefault(_nearest_folder(out, (out / rel).parent), f"to write {rel}")
    needs.setdefault(out, f"to stage the new files and write {MANIFEST}")
    blocked = {
        folder: why for folder, why in needs.items() if not os.access(folder, os.W_OK | os.X_OK)
    }
    if blocked:
        listed = "\n".join(
            f"  {folder.relative_to(out).as_posix()} ({why})"
            for folder, why in sorted(blocked.items())
        )
        raise UsageError(
            f"{out}: refusing to build: folders the build must change are not writable:\n"
            f"{listed}\nmake them writable (nothing was changed)"
        )


def usable_output(out: Path) -> None:
    """Refuse, as usage errors, output paths no folder is or can be made at."""
    if out.is_symlink() and not out.exists():
        raise UsageError(f"{out}: output path is a symlink to nothing")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: output path exists and is not a folder")
    for parent in out.absolute().parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"{out}: {parent} is not a folder")


def _refuse_other_package(out: Path, previous: Manifest, package: str) -> None:
    """Refuse a --package other than the one OUT was built with: the old package's generated
    files would be left behind and its hooks.py, which is the user's, silently ignored."""
    built = sorted(
        path.split("/")[0]
        for path in previous.files
        if path.count("/") == 1 and path.endswith("/main.py")
    )
    if built and package not in built:
        raise UsageError(
            f"{out}: built with --package {built[0]} (its manifest lists {built[0]}/main.py); "
            f"--package {package} would leave {built[0]}/, and {built[0]}/hooks.py with it, "
            f"behind: build into a new folder, or keep --package {built[0]}"
        )


def _claimed(rel: str, current: bytes, content: bytes, owned: dict[str, str], package: str) -> bool:
    """Whether a file the manifest lists (``current``, where the build writes ``content``) was
    edited and no longer carries the generated header (nor is a wrapper copy): not provably
    generated any more, so the user's. One that still carries the header is replaced, edits
    and all, as the header says."""
    if rel not in owned or rel.startswith(f"{package}/pipelines/") or current == content:
        return False
    return sha256(current) != owned[rel] and not _is_generated_by_us(current)


def _refuse_claimed(out: Path, claimed: list[str]) -> None:
    if claimed:
        listed = "\n".join(f"  {c}" for c in sorted(claimed))
        raise UsageError(
            f"{out}: refusing to overwrite generated files that were edited and no longer "
            f"carry the generated header:\n{listed}\nmove them away, or restore the header's "
            "first line to let the build replace them"
        )


def plan(out: Path, output: Output, *, force: bool = False) -> Plan:
    usable_output(out)
    if out.exists():
        _refuse_symlinks(out, [MANIFEST])  # checked before the manifest is read through it
    previous = read_manifest(out) if out.exists() else None
    if previous is not None:
        _refuse_other_package(out, previous, output.service.package)
    if previous is None and out.exists() and _has_user_content(out) and not force:
        raise UsageError(
            f"{out}: folder is not empty and has no {MANIFEST}; pass --force to generate into it "
            "(files that hayhooks-gen did not generate are still never overwritten)"
        )
    owned = previous.files if previous else {}
    if out.exists():
        _refuse_symlinks(out, _touched_paths(out, output, owned))
    result = Plan()
    conflicts: list[str] = []
    claimed: list[str] = []
    folders_in_the_way: list[str] = []
    for rel, content in output.generated.items():
        target = out / rel
        if not target.exists():
            result.writes[rel] = content
            continue
        if target.is_dir():
            folders_in_the_way.append(rel)  # decided once the stale files to delete are known
            result.writes[rel] = content
            continue
        if not target.is_file():  # a FIFO (reading it waited forever), a socket, a device
            conflicts.append(rel)
            continue
        current = target.read_bytes()
        if current == content:
            continue
        if _claimed(rel, current, content, owned, output.service.package):
            claimed.append(rel)
        elif rel in owned or (force and _is_generated_by_us(current)):
            result.writes[rel] = content
        else:
            conflicts.append(rel)
    for rel, content in output.user_owned.items():
        if not os.path.lexists(out / rel):  # a link, even to nothing, is present: left alone
            result.creates[rel] = content
    copies = f"{output.service.package}/pipelines/"
    for rel, digest in sorted(owned.items()):
        if rel in output.generated:
            continue
        target = out / rel
        if not target.is_file():
            if not target.exists():
                result.vanished.append(rel)
            continue
        content = target.read_bytes()
        # Delete only what is provably ours: unedited, and a generated file (its header says
        # so) or a wrapper copy. A manifest entry alone is not proof: it can be hand-edited.
        ours = _is_generated_by_us(content) or rel.startswith(copies)
        if sha256(content) == digest and ours:
            result.deletes.append(rel)
        else:
            result.kept.append(rel)
    deleted, owned_dirs = set(result.deletes), _folders_of(owned)
    for rel in folders_in_the_way:
        folders = _folder_of_stale_files(out, rel, deleted, owned_dirs)
        if folders is None:
            conflicts.append(rel)
        else:
            result.removed_dirs.extend(folders)
    _refuse_claimed(out, claimed)
    if conflicts:
        listed = "\n".join(f"  {c}" for c in sorted(conflicts))
        raise UsageError(
            f"{out}: refusing to overwrite files hayhooks-gen did not generate:\n{listed}\n"
            "move them away, or delete them if they are stale"
        )
    _refuse_files_in_the_way(out, result)
    result.pruned_dirs = _emptied_folders(out, result) if out.exists() else []
    result.manifest = manifest_bytes(output)
    manifest_path = out / MANIFEST
    result.manifest_changed = (
        not manifest_path.is_file() or manifest_path.read_bytes() != result.manifest
    )
    if out.exists() and not result.empty:
        _refuse_unwritable_folders(out, result)
    return result


# A lock file without a pid is one a build has just made (it writes its pid next), or one a
# build killed in between left: after this long, the latter.
EMPTY_LOCK_GRACE_S = 10.0


def _lock_holder_alive(lock: Path) -> bool:
    """Whether the process named in the lock file still runs (a killed build leaves its lock)."""
    try:
        text = lock.read_text().strip()
        if not text:
            return time.time() - lock.stat().st_mtime < EMPTY_LOCK_GRACE_S
        pid = int(text)
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
    usable_output(out)
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


class RollbackError(Exception):
    """A failed build whose undo failed too: OUT may be mixed; the backups were kept."""


@dataclass(frozen=True)
class _Step:
    """One change ``apply`` made, and what undoes it.

    A move into ``target`` (``backup`` holds what it replaced, None if it was absent), or,
    with ``created_dir``, a folder ``apply`` created, or, with ``removed_dir_mode``, an empty
    folder ``apply`` removed (its permission bits, to make it again). Kept in one list, in
    order, so undoing in reverse removes a folder's new files before the folder, restores a
    deleted file only once the folder that took its place is gone, and puts a removed
    folder back before the files that were in it.
    """

    target: Path
    backup: Path | None = None
    created_dir: bool = False
    removed_dir_mode: int | None = None


def apply(out: Path, result: Plan) -> None:
    """Stage every new file, then move them into place, the manifest last.

    Each file a move replaces or deletes is first moved aside into the staging folder; if
    anything fails, every step taken is undone in reverse order, so OUT is left as it was.
    If an undo step fails too, the others are still undone and the staging folder, which
    holds the backups, is kept under a name the next build does not clean up.
    Files are not fsynced one by one (that cost more than all other work together); a
    power loss mid-build can leave files the next build rewrites, since the manifest says
    what each should hold.
    """
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    steps: list[_Step] = []
    keep_staging = True  # until the build succeeded or was fully undone
    try:
        _move_into_place(out, staging, result, steps)
        keep_staging = False
    except BaseException as exc:
        # A second Ctrl-C or SIGTERM must not cut the undo short: it left OUT mixed, and the
        # backups in a staging folder the next build removes.
        with _signals_held():
            failures = _roll_back(steps)
            backups = _keep_backups(out, staging) if failures else None
        if failures:
            raise RollbackError(
                f"{out}: the build failed ({type(exc).__name__}: {exc}) and {len(failures)} "
                f"undo step(s) failed too ({failures[0]}); OUT may mix old and new files; "
                f"the previous files are kept in {backups}"
            ) from exc
        keep_staging = False
        raise
    finally:
        if not keep_staging:
            # Every file is in place (or back): a signal now would only leave the scratch
            # folder behind and report a finished build as interrupted.
            with _signals_held():
                shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM interrupt nothing while the block runs; what comes then is dropped
    (the build is then either failing already or done). Main thread only: elsewhere Python
    delivers no signals anyway."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def hold(signum: int, frame: object) -> None:
        pass

    previous = {number: signal.signal(number, hold) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


def _move_into_place(out: Path, staging: Path, result: Plan, steps: list[_Step]) -> None:
    """Stage the new contents, then do every move, recording each in ``steps`` first."""
    contents = [*result.writes.items(), *result.creates.items()]
    staged: list[tuple[Path | None, Path]] = []
    for index, (rel, content) in enumerate([*contents, (MANIFEST, result.manifest)]):
        new = staging / f"new-{index}"
        new.write_bytes(content)
        staged.append((new, out / rel))
    # Deletions first: a stale generated file may sit where a new folder goes, or a folder
    # of stale files where a new file goes (planning allowed both); such folders, emptied by
    # the deletions, are removed next. The manifest is always the last move.
    deletions: list[tuple[Path | None, Path]] = [(None, out / rel) for rel in result.deletes]
    moves = list(enumerate([*deletions, *staged]))
    for index, (new_path, target) in moves[: len(deletions)]:
        _move(out, staging, index, new_path, target, steps)
    for rel in result.removed_dirs:
        _remove_dir(out / rel, steps)
    for index, (new_path, target) in moves[len(deletions) : -1]:
        _move(out, staging, index, new_path, target, steps)
    # Folders left empty go before the manifest, undoably: a failure here leaves OUT as it
    # was, and a build killed here leaves the old manifest, whose next build prunes them.
    for rel in result.pruned_dirs:
        directory = out / rel
        if not directory.is_symlink() and directory.is_dir() and not any(directory.iterdir()):
            _remove_dir(directory, steps)
    index, (new_path, target) = moves[-1]
    _move(out, staging, index, new_path, target, steps)


def _move(
    out: Path, staging: Path, index: int, new_path: Path | None, target: Path, steps: list[_Step]
) -> None:
    """Move ``new_path`` to ``target`` (None: delete ``target``), what it replaces aside."""
    if os.path.lexists(target):  # a dangling link is moved aside too, never lost
        steps.append(_Step(target, staging / f"old-{index}"))
        os.replace(target, staging / f"old-{index}")
    elif new_path is not None:  # a deletion of an absent file has nothing to undo
        for directory in _make_parents(out, target.parent):
            steps.append(_Step(directory, created_dir=True))
        steps.append(_Step(target))
    if new_path is not None:
        os.replace(new_path, target)


def _remove_dir(directory: Path, steps: list[_Step]) -> None:
    """Remove an empty folder, recording first how to make it again."""
    steps.append(_Step(directory, removed_dir_mode=stat.S_IMODE(os.lstat(directory).st_mode)))
    directory.rmdir()


def _roll_back(steps: list[_Step]) -> list[str]:
    """Undo ``steps`` in reverse order; a failing step does not stop the others.

    Returns one line per step that could not be undone.
    """
    failures: list[str] = []
    for step in reversed(steps):
        try:
            _undo(step)
        except Exception as exc:  # reported; the remaining steps must still run
            failures.append(f"{step.target}: {type(exc).__name__}: {exc}")
    return failures


def _undo(step: _Step) -> None:
    if step.removed_dir_mode is not None:
        if not os.path.lexists(step.target):  # else the removal never happened
            step.target.mkdir()
            os.chmod(step.target, step.removed_dir_mode)
    elif step.created_dir:
        if step.target.is_dir() and not any(step.target.iterdir()):
            step.target.rmdir()
    elif step.backup is not None:
        if os.path.lexists(step.backup):  # else the move aside never happened
            os.replace(step.backup, step.target)
    else:
        step.target.unlink(missing_ok=True)


def _keep_backups(out: Path, staging: Path) -> Path:
    """Rename the staging folder so the next build's clean-up of staging folders keeps it."""
    kept = out / staging.name.replace(STAGING_PREFIX, BACKUP_PREFIX, 1)
    try:
        os.rename(staging, kept)
    except OSError:
        return staging
    return kept


def _make_parents(out: Path, directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents below ``out``; return them, outermost first."""
    missing: list[Path] = []
    while directory != out and not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


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
    """Compare ``out`` with what ``build`` would write; writes nothing.

    What ``build`` refuses, ``check`` refuses too, with the same message: a symlink on the
    way is not drift that ``build`` would repair.
    """
    usable_output(out)
    if out.is_dir():
        _refuse_symlinks(out, [MANIFEST])  # as ``plan``: before the manifest is read through it
    previous = read_manifest(out) if out.is_dir() else None
    if previous is not None:
        _refuse_other_package(out, previous, output.service.package)
    if out.is_dir():
        _refuse_symlinks(out, _touched_paths(out, output, previous.files if previous else {}))
    owned = previous.files if previous else {}
    missing: list[str] = []
    changed: list[str] = []
    claimed: list[str] = []
    diff_parts: list[str] = []
    expected = {**output.generated, MANIFEST: manifest_bytes(output)}
    for rel, content in sorted(expected.items()):
        target = out / rel
        if not target.is_file():
            missing.append(rel)
            continue
        current = target.read_bytes()
        if _claimed(rel, current, content, owned, output.service.package):
            claimed.append(rel)  # build refuses it: not drift build would repair
        elif current != content:
            changed.append(rel)
            diff_parts.append(_diff(rel, current, content))
    for rel in sorted(output.user_owned):
        if not os.path.lexists(out / rel):  # as ``plan``: a link, even to nothing, is present
            missing.append(rel)
    _refuse_claimed(out, claimed)
    extra = sorted(rel for rel in owned if rel not in output.generated and (out / rel).is_file())
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
