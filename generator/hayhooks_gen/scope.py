"""Module-level name bindings of a wrapper module, read from its libcst tree.

Only what the generator needs: imports (including those under ``if TYPE_CHECKING:``),
relative imports, star imports, and names the module defines itself. No libcst metadata
providers are used: a single walk over the module body is enough and far cheaper.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

BUILTIN_NAMES = frozenset(dir(builtins))
ABOVE_FOLDER = "relative import goes above the pipeline folder"


@dataclass(frozen=True)
class Binding:
    """What a module-level name refers to.

    ``module`` is absolute, or starts with "." for modules of the pipeline folder itself
    (".pipeline_wrapper", ".helper"): the renderer anchors those in the generated package.
    """

    module: str
    name: str | None  # None: the name is bound to the module itself
    submodules: tuple[str, ...] = ()  # for ``import a.b.c``: modules known to be loaded


@dataclass
class ModuleScope:
    module: str  # this module, relative form (".pipeline_wrapper")
    bindings: dict[str, Binding] = field(default_factory=dict)
    star_imports: list[tuple[str, cst.CSTNode]] = field(default_factory=list)
    classes: dict[str, cst.ClassDef] = field(default_factory=dict)
    problems: list[tuple[cst.CSTNode, str]] = field(default_factory=list)
    # Names bound by more than one module-level statement: what such a name held when a
    # method's defaults were evaluated is not what importing it gives.
    rebound: set[str] = field(default_factory=set)
    annotated_only: set[str] = field(default_factory=set)  # ``K: int`` binds no ``K``
    # what a name assigned once holds (``Stream = Iterator[str]``): aliases an annotation uses
    values: dict[str, cst.BaseExpression] = field(default_factory=dict)
    future_annotations: bool = False  # ``from __future__ import annotations``
    # top-level packages imported absolutely (``import a.b``, ``from a import b``): their import
    packages: dict[str, cst.CSTNode] = field(default_factory=dict)
    _bound: set[str] = field(default_factory=set)
    _looping: bool = False  # binding inside a loop: the statement may run any number of times

    def bind(self, name: str, binding: Binding) -> None:
        if name in self._bound or self._looping:
            self.rebound.add(name)
        self._bound.add(name)
        self.bindings[name] = binding


def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a pure Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


def relative_module(level: int, module: str | None, package_parts: tuple[str, ...]) -> str | None:
    """Resolve ``from ..x import`` inside the pipeline package; None when it leaves the folder."""
    if level - 1 > len(package_parts):
        return None
    base = package_parts[: len(package_parts) - (level - 1)]
    parts = [*base, *(module.split(".") if module else [])]
    return "." + ".".join(parts) if parts else "."


def _iter_body(body: Sequence[cst.CSTNode]) -> list[cst.CSTNode]:
    """Module-level statements, descending into every block that runs in the module's scope
    (if/else, try/except/else/finally, with, for, while, match). ``with``, ``for``, ``while``
    and ``except`` come out too, before their blocks: all but ``while`` may bind names."""
    out: list[cst.CSTNode] = []
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        elif isinstance(stmt, cst.If):
            out.extend(_iter_body(stmt.body.body))
            orelse = stmt.orelse
            while orelse is not None:
                out.extend(_iter_body(orelse.body.body))
                orelse = orelse.orelse if isinstance(orelse, cst.If) else None
        elif isinstance(stmt, cst.Try | cst.TryStar):
            out.extend(_iter_body(stmt.body.body))
            for handler in stmt.handlers:
                out.append(handler)
                out.extend(_iter_body(handler.body.body))
            for block in (stmt.orelse, stmt.finalbody):
                if block is not None:
                    out.extend(_iter_body(block.body.body))
        elif isinstance(stmt, cst.With | cst.For | cst.While):
            out.append(stmt)
            out.extend(_iter_body(stmt.body.body))
            if not isinstance(stmt, cst.With) and stmt.orelse is not None:
                out.extend(_iter_body(stmt.orelse.body.body))
        elif isinstance(stmt, cst.Match):
            for case in stmt.cases:
                out.extend(_iter_body(case.body.body))
        else:
            out.append(stmt)
    return out


def _in_loops(body: Sequence[cst.CSTNode]) -> set[int]:
    """Ids of the module-level statements that a ``for`` or ``while`` may run many times (or
    none), the loop itself included (a ``for`` binds its target on every pass)."""
    found: set[int] = set()
    for node in _iter_body(body):
        if isinstance(node, cst.For | cst.While):
            found.update(id(inner) for inner in _iter_body([node]))
    return found


def is_type_checking(test: cst.BaseExpression) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``: a block that never runs."""
    return names_type_checking(dotted(test))


def names_type_checking(text: str | None) -> bool:
    """Whether ``text``, the source of an ``if`` test, is ``TYPE_CHECKING`` or a dotted name
    ending in it (``typing.TYPE_CHECKING``); a block under any other test may run."""
    parts = (text or "").split(".")
    return parts[-1] == "TYPE_CHECKING" and all(part.isidentifier() for part in parts)


def _typing_only(body: Sequence[cst.CSTNode]) -> set[int]:
    """Ids of the module-level statements under ``if TYPE_CHECKING:``: they never run, so an
    import there neither loads a module nor can fail."""
    found: set[int] = set()
    for stmt in body:
        if isinstance(stmt, cst.If) and is_type_checking(stmt.test):
            found.update(id(node) for node in _iter_body(stmt.body.body))
        elif isinstance(stmt, cst.Try | cst.With):
            found |= _typing_only(stmt.body.body)
    return found


def _bind_target(scope: ModuleScope, target: cst.BaseExpression) -> None:
    for name in _target_names(target):
        scope.bind(name, Binding(scope.module, name))


def collect_scope(module: cst.Module, module_name: str, *, is_package: bool = False) -> ModuleScope:
    """Bindings of ``module``, whose own relative name is ``module_name`` (".pipeline_wrapper");
    ``is_package`` for an ``__init__.py``, whose relative imports start from itself."""
    scope = ModuleScope(module=module_name)
    parts = [p for p in module_name.lstrip(".").split(".") if p]
    package_parts = tuple(parts if is_package else parts[:-1])
    typing_only = _typing_only(module.body)
    looped = _in_loops(module.body)
    for node in _iter_body(module.body):
        runs = id(node) not in typing_only
        scope._looping = id(node) in looped
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted(alias.name)
                if full is None:
                    continue
                if runs:
                    scope.packages.setdefault(full.split(".")[0], node)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    scope.bind(alias.asname.name.value, Binding(full, None, (full,)))
                else:
                    root = full.split(".")[0]
                    previous = scope.bindings.get(root)
                    subs = previous.submodules if previous and previous.name is None else ()
                    scope.bind(root, Binding(root, None, tuple(sorted({*subs, full}))))
        elif isinstance(node, cst.ImportFrom):
            level = len(node.relative)
            mod_name = dotted(node.module) if node.module is not None else None
            if level:
                source = relative_module(level, mod_name, package_parts)
                if source is None:
                    if runs:  # under TYPE_CHECKING it never runs: its names stay unresolved
                        scope.problems.append((node, ABOVE_FOLDER))
                    continue
            else:
                source = mod_name or ""
                if source and runs:
                    scope.packages.setdefault(source.split(".")[0], node)
            if source == "__future__":
                names = node.names
                scope.future_annotations |= not isinstance(names, cst.ImportStar) and any(
                    isinstance(alias.name, cst.Name) and alias.name.value == "annotations"
                    for alias in names
                )
                # annotations are source text here, evaluated or not: nothing to record
                continue
            if isinstance(node.names, cst.ImportStar):
                scope.star_imports.append((source, node))
                continue
            for alias in node.names:
                if not isinstance(alias.name, cst.Name):
                    continue
                local = alias.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                scope.bind(local, Binding(source, alias.name.value))
        elif isinstance(node, cst.ClassDef):
            scope.bind(node.name.value, Binding(module_name, node.name.value))
            scope.classes[node.name.value] = node
        elif isinstance(node, cst.FunctionDef):
            scope.bind(node.name.value, Binding(module_name, node.name.value))
        elif isinstance(node, cst.Assign):
            for target in node.targets:
                _bind_target(scope, target.target)
                if isinstance(target.target, cst.Name):
                    scope.values[target.target.value] = node.value
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                _bind_target(scope, node.target)
                if isinstance(node.target, cst.Name):
                    scope.values[node.target.value] = node.value
            else:
                scope.annotated_only.update(_target_names(node.target))
        elif isinstance(node, cst.For):
            _bind_target(scope, node.target)
        elif isinstance(node, cst.With):
            for item in node.items:
                if item.asname is not None:
                    _bind_target(scope, item.asname.name)
        elif isinstance(node, cst.ExceptHandler | cst.ExceptStarHandler):
            # `except E as K` deletes K when the handler ends: what K holds afterwards depends
            # on whether it ran
            if node.name is not None and isinstance(node.name.name, cst.Name):
                scope.rebound.add(node.name.name.value)
        elif isinstance(node, cst.AugAssign | cst.Del):
            scope.rebound.update(_target_names(node.target))
    scope._looping = False
    # walrus targets and match captures: bound by expressions and patterns, maybe more than
    # once, maybe not at all; what they hold when a method's defaults are evaluated is unknown
    found = _ExpressionBindings()
    for stmt in module.body:
        if not isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            stmt.visit(found)
    for name in sorted(found.names):
        scope.bind(name, Binding(scope.module, name))
        scope.rebound.add(name)
    return scope


class OwnScopeVisitor(cst.CSTVisitor):
    """Visits one scope's own code: nested functions, lambdas and classes are scopes of
    their own and are not entered."""

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


class _ExpressionBindings(OwnScopeVisitor):
    """Names module-level code binds inside expressions (``(K := 1)``, in comprehensions
    too) and ``match`` patterns (``case K:``, ``case [*K]``, ``case {**K}``, ``as K``)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.names.update(_target_names(node.target))

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.names.add(node.name.value)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self.names.add(node.name.value)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self.names.add(node.rest.value)


def class_body_names(cls: cst.ClassDef, before: cst.CSTNode | None = None) -> frozenset[str]:
    """Names a class body binds, up to the statement ``before`` (a method's ``def``): those
    its defaults and annotations see before the module's; what the body binds later does not
    exist yet when the ``def`` runs."""
    statements = list(cls.body.body)
    if before is not None and before in statements:
        statements = statements[: statements.index(before)]
    names: set[str] = set()
    for node in _iter_body(statements):
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            names.add(node.name.value)
        elif isinstance(node, cst.For):
            names.update(_target_names(node.target))
        elif isinstance(node, cst.With):
            for item in node.items:
                if item.asname is not None:
                    names.update(_target_names(item.asname.name))
        elif isinstance(node, cst.Assign):
            for target in node.targets:
                names.update(_target_names(target.target))
        elif isinstance(node, cst.AnnAssign | cst.AugAssign) and (
            not isinstance(node, cst.AnnAssign) or node.value is not None
        ):
            names.update(_target_names(node.target))
        elif isinstance(node, cst.Import | cst.ImportFrom) and not isinstance(
            node.names, cst.ImportStar
        ):
            for alias in node.names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(bound, cst.Name):
                    names.add(bound.value)
                elif isinstance(bound, cst.Attribute):
                    names.add((dotted(bound) or "").split(".")[0])
    return frozenset(names)


def _target_names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [name for element in target.elements for name in _target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []
