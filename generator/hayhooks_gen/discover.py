"""Stage 1: find the pipeline folders of a wrappers folder and read their files.

Follows Hayhooks' durable mode: every first-level folder is a pipeline named after the
folder; hidden entries and ``__pycache__`` are skipped; names must match
``[A-Za-z0-9_-]+``. Output is sorted so every later stage is deterministic.
"""

from __future__ import annotations

import fnmatch
import keyword
import re
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
    warnings: tuple[str, ...]
    requirements: tuple[str, ...]
    errors: tuple[Diagnostic, ...] = ()  # reported with the parse errors, all in one run


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
        or ident in GENERATED_ROUTE_MODULES
    ):
        ident = f"p_{ident}"
    return ident


def _ignored(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in IGNORED)


def _read_folder(root: Path, folder: Path, errors: list[Diagnostic]) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    resolved_folder = folder.resolve()
    seen = {resolved_folder}  # real folders walked, so a symlink loop is walked once
    pending = [folder]
    while pending:
        current = pending.pop()
        for entry in sorted(current.iterdir()):
            if _ignored(entry.name):
                continue
            rel_to_root = entry.relative_to(root).as_posix()
            if entry.is_symlink() and not entry.resolve().is_relative_to(resolved_folder):
                errors.append(
                    Diagnostic(rel_to_root, 1, 1, "symlink points outside its pipeline folder")
                )
                continue
            if entry.is_dir():
                real = entry.resolve()
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
                size = entry.stat().st_size
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
                files.append((entry.relative_to(folder).as_posix(), entry.read_bytes()))
    return sorted(files)


def discover(wrappers: Path) -> Discovery:
    """Read every pipeline folder under ``wrappers``; problems go to ``Discovery.errors``."""
    root = wrappers
    errors: list[Diagnostic] = []
    warnings: list[str] = []
    pipelines: list[PipelineSource] = []
    idents: dict[str, str] = {}
    resolved_root = root.resolve()
    for entry in sorted(root.iterdir()):
        name = entry.name
        if _ignored(name):
            continue
        if entry.is_file():
            if entry.suffix in YAML_SUFFIXES:
                warnings.append(f"{name}: YAML pipelines are not supported yet; skipped")
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
        ident = python_ident(name)
        if ident in idents:
            errors.append(
                Diagnostic(
                    name,
                    1,
                    1,
                    f"pipeline '{name}' collides with '{idents[ident]}' "
                    f"(both become the Python package and operationId stem '{ident}')",
                )
            )
            continue
        idents[ident] = name
        if not (entry / WRAPPER_FILE).is_file():
            errors.append(Diagnostic(f"{name}/{WRAPPER_FILE}", 1, 1, "missing pipeline_wrapper.py"))
            continue
        files = _read_folder(root, entry, errors)
        pipelines.append(PipelineSource(name=name, ident=ident, folder=name, files=tuple(files)))
    requirements = _requirements(root, errors)
    return Discovery(tuple(pipelines), tuple(warnings), requirements, tuple(errors))


# Control characters (tab aside): they would end up raw in pyproject.toml's strings.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _requirements(root: Path, errors: list[Diagnostic]) -> tuple[str, ...]:
    """The extra dependencies of ``requirements.txt`` (blank and comment lines left out)."""
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
    for number, raw in enumerate(text.splitlines(), start=1):
        requirement = raw.strip()
        if not requirement or requirement.startswith("#"):
            continue
        bad = _CONTROL.search(requirement)
        if bad is not None:
            col = raw.index(bad.group()) + 1
            errors.append(
                Diagnostic("requirements.txt", number, col, "control character in a requirement")
            )
            continue
        found.add(requirement)
    return tuple(sorted(found))
