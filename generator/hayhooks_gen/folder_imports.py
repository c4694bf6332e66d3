"""Relative imports between a pipeline folder's modules, checked as Python runs them.

``from .helper import Thing`` in a module that runs at start-up fails there when the folder
has no module ``helper`` or ``helper`` defines no ``Thing`` (Hayhooks then fails to load the
pipeline; the service would fail to start). Only what is certain is reported: imports
directly in a module's body (not under ``if`` or ``try``, which may guard them), from
modules whose top-level names can be read off their code (no star import, no module
``__getattr__``, no ``globals()``, ``vars()``, ``exec`` or ``setattr``, no ``global``
statement). Anything less certain is left to run.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Code that may bind module names no static reader sees.
_DYNAMIC_HINTS = ("globals(", "vars(", "exec(", "setattr(", "__getattr__", "__dict__")


@dataclass(frozen=True)
class MissingImport:
    line: int
    col: int  # 1-based
    message: str


def _dir_of(module: str) -> str:
    """``.sub.util`` -> ``sub/util``; the folder itself (``.``) -> ``""``."""
    return module.strip(".").replace(".", "/")


def _exists(paths: frozenset[str], module: str) -> bool:
    """Whether ``module`` is a module or package of the folder: ``x.py``, a folder ``x/``
    (with or without ``__init__.py``), or a compiled ``x.<suffix>`` (``x.cpython-311.so``)."""
    rel = _dir_of(module)
    if not rel:
        return True
    parent, _, name = rel.rpartition("/")
    prefix = f"{parent}/" if parent else ""
    return any(
        path.startswith(f"{rel}/")
        or (path.startswith(f"{prefix}{name}.") and "/" not in path[len(prefix) :])
        for path in paths
    )


def _init_file(paths: frozenset[str], module: str) -> str | None:
    """The file whose top-level names ``module`` has: ``x.py`` or ``x/__init__.py``."""
    rel = _dir_of(module)
    for candidate in (f"{rel}.py", f"{rel}/__init__.py") if rel else ("__init__.py",):
        if candidate in paths:
            return candidate
    return None


def top_level_names(tree: ast.Module, text: str) -> frozenset[str] | None:
    """The names a module binds when it runs, or None when its code may bind others."""
    if "import *" in text or any(hint in text for hint in _DYNAMIC_HINTS):
        return None
    names: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Global | ast.Nonlocal):
            return None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            pending.extend(node.decorator_list)
            # a ``global`` statement in a function body binds module names when it runs
            if any(isinstance(n, ast.Global) for n in ast.walk(node)):
                return None
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        pending.extend(ast.iter_child_nodes(node))
    return frozenset(names)


def unconditional_relative_imports(
    tree: ast.Module, resolve: Callable[[ast.ImportFrom], str | None]
) -> Iterable[tuple[ast.ImportFrom, str]]:
    """Relative imports directly in the module's body, each with the module it names
    (``resolve``: its name in the folder, or None when it leaves the folder)."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            module = resolve(node)
            if module is not None:
                yield node, module


def missing_imports(
    imports: Iterable[tuple[ast.ImportFrom, str]],
    paths: frozenset[str],
    names_of: Callable[[str], frozenset[str] | None],
) -> list[MissingImport]:
    """What in ``imports`` Python cannot import from the folder (``paths``: its files,
    relative; ``names_of``: the top-level names of one of them, None when unknown)."""
    out: list[MissingImport] = []
    for node, module in imports:
        if not _exists(paths, module):
            out.append(
                MissingImport(
                    node.lineno,
                    node.col_offset + 1,
                    f"the pipeline folder has no module '{module}': importing it fails at start-up",
                )
            )
            continue
        init = _init_file(paths, module)
        rel = _dir_of(module)
        if init is not None:
            defined = names_of(init)
        elif not rel or any(path.startswith(f"{rel}/") for path in paths):
            defined = frozenset()  # a folder without __init__.py holds only its modules
        else:
            defined = None  # a compiled module: its names are not ours to read
        if defined is None:
            continue
        base = module.rstrip(".")
        for alias in node.names:
            name = alias.name
            if name == "*" or name in defined or _exists(paths, f"{base}.{name}"):
                continue
            if init is not None and not init.endswith("__init__.py"):
                why = f"{init} defines no such name"  # a module, not a package
            else:
                defines = f"{init} defines no such name and " if init is not None else ""
                why = f"{defines}the folder has no module '{base}.{name}'"
            out.append(
                MissingImport(
                    alias.lineno,
                    alias.col_offset + 1,
                    f"cannot import '{name}' from '{module}': {why} (importing it fails at "
                    "start-up)",
                )
            )
    return out
