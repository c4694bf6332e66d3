"""Rewrite a wrapper file's Hayhooks imports so core names come from the generated runtime.

``from hayhooks import BasePipelineWrapper, streaming_generator`` becomes
``from hayhooks import streaming_generator`` plus ``from ...runtime import BasePipelineWrapper``.
The relative form does not depend on the generated package's name.

What to rewrite is read from the libcst tree. The file is then edited in place: only the
byte range of each rewritten import statement changes, every other byte is copied as it was.
The ranges come from Python's own ``ast`` positions, which cost a fraction of a libcst
codegen pass; for source the running Python cannot parse (newer syntax), from libcst's
``PositionProvider``. Both give the same ranges, so the output never depends on which ran.
"""

from __future__ import annotations

import ast
import codecs
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from hayhooks_gen.hayhooks_api import TOP_LEVEL_EXPORTS, is_core
from hayhooks_gen.scope import dotted

# Line breaks as both Python's tokenizer and libcst's positions count them.
_NEWLINE = re.compile(rb"\r\n?|\n")
_CLAUSES = ("body", "handlers", "orelse", "finalbody", "cases")

Span = tuple[int, int]  # byte offsets [start, end) in the file


@dataclass
class Rewrite:
    """The rewritten file (None when nothing changed) and what its Hayhooks imports name."""

    code: bytes | None = None
    hayhooks_names: set[str] = field(default_factory=set)
    runtime_names: set[str] = field(default_factory=set)
    problems: list[tuple[cst.CSTNode, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Edit:
    node: cst.ImportFrom  # the statement whose byte range is replaced
    own_line: bool  # alone on its line: a split goes on two lines, else joined with "; "
    other: cst.ImportFrom | None  # the names that stay imported from hayhooks
    runtime: cst.ImportFrom  # the core names, from the generated runtime


def mentions_hayhooks(source: bytes) -> bool:
    return b"hayhooks" in source


def _statement_lines(
    node: cst.CSTNode,
) -> Iterator[cst.SimpleStatementLine | cst.SimpleStatementSuite]:
    """Every line of small statements, in source order; expressions are never entered."""
    if isinstance(node, cst.SimpleStatementLine | cst.SimpleStatementSuite):
        yield node
        return
    for clause in _CLAUSES:
        value = getattr(node, clause, None)
        if isinstance(value, cst.CSTNode):
            yield from _statement_lines(value)
        elif isinstance(value, list | tuple):
            for child in value:
                if isinstance(child, cst.CSTNode):
                    yield from _statement_lines(child)


def _runtime_import(depth: int, names: list[cst.ImportAlias]) -> cst.ImportFrom:
    # a file in app/pipelines/<p>/[sub/...] imports app.runtime
    dots = [cst.Dot() for _ in range(depth + 3)]
    return cst.ImportFrom(module=cst.Name("runtime"), relative=dots, names=names)


def _plan(
    module: cst.Module, depth: int, result: Rewrite
) -> tuple[list[cst.ImportFrom], list[_Edit]]:
    """Every ``from`` import (to match positions against) and the edits to make."""
    imports: list[cst.ImportFrom] = []
    edits: list[_Edit] = []
    for line in _statement_lines(module):
        own_line = isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1
        for small in line.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    name = dotted(alias.name)
                    if name and (name == "hayhooks" or name.startswith("hayhooks.")):
                        result.hayhooks_names.add(name)
            elif isinstance(small, cst.ImportFrom):
                imports.append(small)
                edit = _edit(small, own_line, depth, result)
                if edit is not None:
                    edits.append(edit)
    return imports, edits


def _edit(node: cst.ImportFrom, own_line: bool, depth: int, result: Rewrite) -> _Edit | None:
    if node.relative or node.module is None:
        return None
    module = dotted(node.module)
    if module is None or not (module == "hayhooks" or module.startswith("hayhooks.")):
        return None
    if isinstance(node.names, cst.ImportStar):
        result.problems.append((node, f"star import from '{module}': import names explicitly"))
        return None
    core: list[cst.ImportAlias] = []
    other: list[cst.ImportAlias] = []
    for alias in node.names:
        name = alias.name.value if isinstance(alias.name, cst.Name) else ""
        if module == "hayhooks" and name not in TOP_LEVEL_EXPORTS:
            result.problems.append((alias, f"'hayhooks' has no name '{name}'"))
        plain = alias.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        if is_core(module, name):
            result.runtime_names.add(name)
            core.append(plain)
        else:
            other.append(plain)
            result.hayhooks_names.add(f"{module}.{name}")
    if not core:
        return None
    kept = node.with_changes(names=other, lpar=None, rpar=None) if other else None
    return _Edit(node, own_line, kept, _runtime_import(depth, core))


def _ast_imports(body: list[ast.stmt]) -> Iterator[ast.ImportFrom]:
    """The ``from`` imports among these statements and their clauses, in source order."""
    for stmt in body:
        if isinstance(stmt, ast.ImportFrom):
            yield stmt
            continue
        for clause in _CLAUSES:
            value = getattr(stmt, clause, None)
            if isinstance(value, list):
                for child in value:
                    if isinstance(child, ast.stmt):
                        yield from _ast_imports([child])
                    elif isinstance(child, ast.ExceptHandler | ast.match_case):
                        yield from _ast_imports(child.body)


def _line_starts(source: bytes) -> list[int]:
    return [0, *(m.end() for m in _NEWLINE.finditer(source))]


def _ast_spans(source: bytes, imports: list[cst.ImportFrom]) -> dict[int, Span] | None:
    """Byte ranges of the ``from`` imports by Python's parser; None if it cannot tell."""
    try:
        # The decoded text, so a coding cookie cannot change what the columns count.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "\d" and the like: not ours to print
            tree = ast.parse(source.decode("utf-8"))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return None
    found = list(_ast_imports(tree.body))
    if len(found) != len(imports):
        return None
    starts = _line_starts(source)
    spans: dict[int, Span] = {}
    for py, node in zip(found, imports, strict=True):
        module = dotted(node.module) if node.module is not None else None
        if py.module != module or py.level != len(node.relative) or py.end_lineno is None:
            return None  # the two parsers disagree: do not trust either pairing
        start = starts[py.lineno - 1] + py.col_offset
        spans[id(node)] = (start, starts[py.end_lineno - 1] + (py.end_col_offset or 0))
    return spans


def _cst_spans(module: cst.Module, source: bytes, nodes: list[cst.ImportFrom]) -> dict[int, Span]:
    """The same ranges from libcst's positions (columns in characters, made bytes here)."""
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    starts = _line_starts(source)

    def offset(line: int, column: int) -> int:
        begin = starts[line - 1]
        end = starts[line] if line < len(starts) else len(source)
        return begin + len(source[begin:end].decode("utf-8")[:column].encode("utf-8"))

    spans: dict[int, Span] = {}
    for node in nodes:
        where = positions[node]
        spans[id(node)] = (
            offset(where.start.line, where.start.column),
            offset(where.end.line, where.end.column),
        )
    return spans


def _code(node: cst.ImportFrom) -> bytes:
    # Without its semicolon: the range replaced never includes it.
    bare = node.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
    return cst.Module(body=[]).code_for_node(bare).encode("utf-8")


def _replacement(edit: _Edit, source: bytes, start: int, newline: bytes) -> bytes:
    runtime = _code(edit.runtime)
    if edit.other is None:
        return runtime
    if not edit.own_line:
        return _code(edit.other) + b"; " + runtime
    line_start = max(source.rfind(b"\n", 0, start), source.rfind(b"\r", 0, start)) + 1
    indent = source[line_start:start]
    return _code(edit.other) + newline + indent + runtime


def rewrite_imports(module: cst.Module, source: bytes, depth: int) -> Rewrite:
    """Rewrite the Hayhooks imports of ``source`` (parsed as ``module``).

    ``depth`` is the file's package depth below the pipeline folder (0 for top-level files).
    """
    result = Rewrite()
    imports, edits = _plan(module, depth, result)
    if not edits:
        return result
    # A byte order mark is no part of line 1 for either parser's columns: edit what follows it.
    mark = codecs.BOM_UTF8 if source.startswith(codecs.BOM_UTF8) else b""
    source = source[len(mark) :]
    spans = _ast_spans(source, imports) or _cst_spans(module, source, [e.node for e in edits])
    newline = module.default_newline.encode("utf-8")
    parts: list[bytes] = [mark]
    done = 0
    for edit in edits:
        start, end = spans[id(edit.node)]
        parts += [source[done:start], _replacement(edit, source, start, newline)]
        done = end
    parts.append(source[done:])
    result.code = b"".join(parts)
    return result
