"""Stage 1: find the pipeline folders of a wrappers folder and read their files.

Follows Hayhooks' durable mode: every first-level folder is a pipeline named after the
folder; hidden entries and ``__pycache__`` are skipped; names must match
``[A-Za-z0-9_-]+``. Output is sorted so every later stage is deterministic.
"""

from __future__ import annotations

import fnmatch
import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from hayhooks_gen.diagnostics import Diagnostic

PIPELINE_NAME = re.compile(r"[A-Za-z0-9_-]+")
WRAPPER_FILE = "pipeline_wrapper.py"
# Hayhooks' HAYHOOKS_FILES_TO_IGNORE_PATTERNS default, plus hidden entries.
IGNORED = ("*.pyc", "*.pyo", "*.pyd", "__pycache__", "*.so", "*.egg", "*.egg-info", ".*")
MAX_FILE_BYTES = 50 * 1024 * 1024
# /{name}/run must not fall under a route the service owns (/status/{pipeline_name}).
RESERVED_NAMES = frozenset({"status"})
YAML_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class PipelineSource:
    name: str
    ident: str
    folder: str  # relative to the wrappers root
    files: tuple[tuple[str, bytes], ...]  # (path relative to the folder, content), sorted

    def read(self, relpath: str) -> bytes | None:
        for path, content in self.files:
            if path == relpath:
                return content
        return None


@dataclass(frozen=True)
class Discovery:
    pipelines: tuple[PipelineSource, ...]  # the readable ones, even when others have errors
    warnings: tuple[Diagnostic, ...]
    requirements: tuple[str, ...]
    errors: tuple[Diagnostic, ...] = ()  # reported with the parse errors, all in one run


# Long enough for any real name; short enough that `routes/<name>.py` and friends fit in 255.
MAX_PIPELINE_NAME = 200
# Modules the service itself generates in app/routes/: a pipeline may not take their names.
GENERATED_ROUTE_MODULES = frozenset({"openai", "status"})


def python_ident(name: str) -> str:
    """A Python identifier for a pipeline name: ``my-pipe`` -> ``my_pipe``, ``2x`` -> ``p_2x``.

    Names that are not identifiers, keywords, private-looking, or taken by a generated route
    module (``openai``) get a ``p_`` prefix.
    """
    ident = name.replace("-", "_")
    if (
        not ident.isidentifier()
        or keyword.iskeyword(ident)
        or ident.startswith("_")
        or ident.casefold() in GENERATED_ROUTE_MODULES  # `Status.py` is `status.py` on macOS
    ):
        ident = f"p_{ident}"
    return ident


def _ignored(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in IGNORED)


def _name_problem(name: str) -> str | None:
    """Why a file name inside a pipeline folder cannot be copied the same on every machine."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept as surrogates
        return "file name is not valid UTF-8"
    if "\\" in name:
        return "file name holds a backslash, a path separator on Windows"
    if not name.isascii() and sys.getfilesystemencoding().lower() not in ("utf-8", "utf8"):
        return (
            f"non-ASCII file name read under the {sys.getfilesystemencoding()} file system "
            "encoding: the output would differ from a UTF-8 machine's (run under a UTF-8 locale)"
        )
    return None


def _listing(current: Path, rel: str, errors: list[Diagnostic]) -> list[Path]:
    try:
        return sorted(current.iterdir())
    except OSError as exc:
        errors.append(Diagnostic(rel, 1, 1, f"cannot read this folder: {exc.strerror}"))
        return []


def _real_path(entry: Path, rel: str, errors: list[Diagnostic]) -> Path | None:
    try:
        return entry.resolve(strict=True)
    except RuntimeError:  # Python 3.11's word for a symlink loop
        errors.append(Diagnostic(rel, 1, 1, "symlink loop"))
    except FileNotFoundError:
        pass  # a dangling link: nothing to copy (Hayhooks skips it too)
    except OSError as exc:
        errors.append(Diagnostic(rel, 1, 1, f"cannot follow this symlink: {exc.strerror}"))
    return None


def _read_folder(root: Path, folder: Path, errors: list[Diagnostic]) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    resolved_folder = folder.resolve()
    seen = {resolved_folder}  # real folders walked, so a symlink loop is walked once
    pending = [folder]
    while pending:
        current = pending.pop()
        for entry in _listing(current, current.relative_to(root).as_posix(), errors):
            if _ignored(entry.name):
                continue
            rel_to_root = entry.relative_to(root).as_posix()
            problem = _name_problem(entry.name)
            if problem is not None:
                errors.append(Diagnostic(rel_to_root, 1, 1, problem))
                continue
            target: Path | None = None
            if entry.is_symlink():
                target = _real_path(entry, rel_to_root, errors)
                if target is None:
                    continue
                if not target.is_relative_to(resolved_folder):
                    errors.append(
                        Diagnostic(rel_to_root, 1, 1, "symlink points outside its pipeline folder")
                    )
                    continue
            if entry.is_dir():
                real = target or entry.resolve()
                if real in seen:
                    errors.append(
                        Diagnostic(
                            rel_to_root, 1, 1, "symlink loop: points to a folder already read"
                        )
                    )
                    continue
                seen.add(real)
                pending.append(entry)
            elif entry.is_file():
                try:
                    size = entry.stat().st_size
                    content = entry.read_bytes() if size <= MAX_FILE_BYTES else b""
                except OSError as exc:
                    errors.append(Diagnostic(rel_to_root, 1, 1, f"cannot read: {exc.strerror}"))
                    continue
                if size > MAX_FILE_BYTES:
                    errors.append(
                        Diagnostic(
                            rel_to_root,
                            1,
                            1,
                            f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit",
                        )
                    )
                    continue
                files.append((entry.relative_to(folder).as_posix(), content))
    return sorted(files)


def discover(wrappers: Path) -> Discovery:
    """Read every pipeline folder under ``wrappers``; problems go to ``Discovery.errors``."""
    root = wrappers
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    pipelines: list[PipelineSource] = []
    idents: dict[str, tuple[str, str]] = {}
    resolved_root = root.resolve()
    for entry in sorted(root.iterdir()):
        name = entry.name
        if _ignored(name):
            continue
        if entry.is_file():
            if entry.suffix in YAML_SUFFIXES:
                warnings.append(
                    Diagnostic(name, 1, 1, "YAML pipelines are not supported; skipped", "warning")
                )
            continue
        if not entry.is_dir():
            continue
        if entry.is_symlink() and not entry.resolve().is_relative_to(resolved_root):
            errors.append(
                Diagnostic(name, 1, 1, "pipeline folder is a symlink outside the wrappers folder")
            )
            continue
        if not PIPELINE_NAME.fullmatch(name):
            errors.append(
                Diagnostic(
                    name,
                    1,
                    1,
                    f"invalid pipeline name '{name}': use letters, digits, '_' and '-'",
                )
            )
            continue
        if name in RESERVED_NAMES:
            errors.append(
                Diagnostic(
                    name, 1, 1, f"pipeline name '{name}' is taken by the service's /{name} routes"
                )
            )
            continue
        if len(name) > MAX_PIPELINE_NAME:
            errors.append(
                Diagnostic(
                    name,
                    1,
                    1,
                    f"pipeline name is {len(name)} characters, over {MAX_PIPELINE_NAME}: the "
                    "file names made of it must stay under the file system's 255 bytes",
                )
            )
            continue
        ident = python_ident(name)
        # Case-insensitive file systems (macOS, Windows) hold one of `Echo.py` and `echo.py`.
        folded = ident.casefold()
        if folded in idents:
            other, other_ident = idents[folded]
            why = (
                f"both become the Python package and operationId stem '{ident}'"
                if other_ident == ident
                else f"'{other_ident}' and '{ident}' are one file name on a case-insensitive "
                "file system (macOS, Windows)"
            )
            errors.append(
                Diagnostic(name, 1, 1, f"pipeline '{name}' collides with '{other}' ({why})")
            )
            continue
        idents[folded] = (name, ident)
        if not (entry / WRAPPER_FILE).is_file():
            errors.append(Diagnostic(f"{name}/{WRAPPER_FILE}", 1, 1, "missing pipeline_wrapper.py"))
            continue
        files = _read_folder(root, entry, errors)
        pipelines.append(PipelineSource(name=name, ident=ident, folder=name, files=tuple(files)))
    requirements = _requirements(root, errors, warnings)
    return Discovery(tuple(pipelines), tuple(warnings), requirements, tuple(errors))


# Control characters (tab aside): they would end up raw in pyproject.toml's strings.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _requirements(
    root: Path, errors: list[Diagnostic], warnings: list[Diagnostic]
) -> tuple[str, ...]:
    """The extra dependencies of ``requirements.txt`` (blank and comment lines left out).

    Read as pip reads it where a dependency list can follow: a line ending in ``\\`` goes on
    on the next one, and ``--hash`` options (``pip-compile --generate-hashes``) are left out,
    with one warning, since pyproject.toml's dependencies cannot carry them."""
    req_file = root / "requirements.txt"
    if not req_file.is_file():
        return ()
    content = req_file.read_bytes()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = content[: exc.start].count(b"\n") + 1
        errors.append(Diagnostic("requirements.txt", where, 1, "source is not valid UTF-8"))
        return ()
    found: set[str] = set()
    hashed: tuple[int, int] | None = None
    for raw, pieces in _logical_lines(text):
        # pip's comment rule: `#` at the start or after whitespace ends the line
        line = _COMMENT.sub("", raw).strip()
        if not line:
            continue
        number, col = _located(pieces, raw.index(line[0]))
        bad = _CONTROL.search(line)
        if bad is not None:
            bad_line, bad_col = _located(pieces, raw.index(bad.group()))
            errors.append(
                Diagnostic(
                    "requirements.txt", bad_line, bad_col, "control character in a requirement"
                )
            )
            continue
        requirement = _HASH_OPTION.sub("", f" {line}").strip()
        if requirement != line and hashed is None:
            hashed = (number, col)
        if not requirement:
            continue  # hashes without a requirement: pip ignores them too, with a warning
        problem = _requirement_problem(requirement)
        if problem is not None:
            errors.append(Diagnostic("requirements.txt", number, col, problem))
            continue
        found.add(requirement)
    if hashed is not None:
        warnings.append(
            Diagnostic(
                "requirements.txt",
                *hashed,
                "--hash options are left out of the generated pyproject.toml (its dependencies "
                "cannot carry hashes); to check them, install with "
                "`pip install --require-hashes -r requirements.txt`",
                level="warning",
            )
        )
    return tuple(sorted(found))


# Where each physical line of a logical one starts: (offset in the joined text, line
# number, columns dropped from its start).
_Pieces = list[tuple[int, int, int]]


def _logical_lines(text: str) -> list[tuple[str, _Pieces]]:
    """Each logical line with where its pieces come from, as pip joins lines: a line ending
    in a backslash (one not starting with a comment) goes on on the next, the backslashes
    around it dropped; a comment line ends the joined line."""
    out: list[tuple[str, _Pieces]] = []
    joined: list[str] = []
    pieces: _Pieces = []
    length = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        starts_comment = _COMMENT.match(raw) is not None
        if raw.endswith("\\") and not starts_comment:
            piece = raw.strip("\\")
            pieces.append((length, number, len(raw) - len(raw.lstrip("\\"))))
            joined.append(piece)
            length += len(piece)
            continue
        piece = " " + raw if joined and starts_comment else raw
        pieces.append((length, number, len(raw) - len(piece)))
        joined.append(piece)
        out.append(("".join(joined), pieces))
        joined, pieces, length = [], [], 0
    if joined:
        out.append(("".join(joined), pieces))
    return out


def _located(pieces: _Pieces, offset: int) -> tuple[int, int]:
    """Line and column (1-based) of ``offset`` in a logical line."""
    start, number, dropped = next(p for p in reversed(pieces) if p[0] <= offset)
    return number, offset - start + dropped + 1


# `--hash=sha256:...` or `--hash sha256:...` after a requirement
_HASH_OPTION = re.compile(r"\s--hash(?:=|\s+)\S+")
_COMMENT = re.compile(r"(^|\s+)#.*$")


def _requirement_problem(line: str) -> str | None:
    """Why a requirements.txt line cannot be a dependency of the generated pyproject.toml."""
    if line.startswith("-"):
        return (
            f"'{line.split()[0]}': pip options cannot go into pyproject.toml's dependencies; "
            "list the requirements themselves"
        )
    option = re.search(r"\s(--?[A-Za-z][\w-]*)", line)
    if option is not None:
        return (
            f"'{option.group(1)}': pip's per-requirement options cannot go into pyproject.toml's "
            "dependencies (only --hash is left out, with a warning)"
        )
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(line)
    except InvalidRequirement as exc:
        return f"not a requirement (PEP 508): {str(exc).splitlines()[0]}"
    return None
