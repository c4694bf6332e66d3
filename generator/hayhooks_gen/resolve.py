"""Resolve the names of an annotation or default expression to importable symbols.

The result is an ``Expr``: the expression's code with every non-builtin name chain replaced
by a marker, and the ``Ref`` each marker stands for. String annotations (including those
made implicit by ``from __future__ import annotations``) are parsed and resolved the same
way, so the generated code carries real expressions that pydantic and FastAPI evaluate
without needing the wrapper module's namespace.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import libcst as cst

from hayhooks_gen.hayhooks_api import canonical_qualname
from hayhooks_gen.model import Expr, Ref, Symbol, ref_marker
from hayhooks_gen.scope import BUILTIN_NAMES, ModuleScope, dotted

LITERAL = frozenset({"typing.Literal", "typing_extensions.Literal"})
ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_PLACEHOLDER = "__hhg_ref_{}__"
_EMPTY_MODULE = cst.Module(body=[])


@dataclass
class Problem:
    node: cst.CSTNode
    message: str


def _symbol_for_chain(scope: ModuleScope, chain: list[str]) -> Ref | str:
    """A Ref for ``a.b.c``, or an error message."""
    root = chain[0]
    binding = scope.bindings.get(root)
    if binding is None:
        if root in BUILTIN_NAMES:
            return Ref(Symbol("builtins", root), tuple(chain[1:]))
        if scope.star_imports:
            sources = ", ".join(sorted({m for m, _ in scope.star_imports}))
            return f"cannot resolve '{root}': star imports ({sources}) hide where names come from"
        if root in scope.annotated_only:
            return f"cannot resolve name '{root}': it is annotated in this module, never assigned"
        return f"cannot resolve name '{root}': it is not imported or defined in this module"
    if binding.name is not None:
        return Ref(Symbol(binding.module, binding.name), tuple(chain[1:]))
    # The name is bound to a module: ``import a.b as z`` or ``import a.b.c`` (binds ``a``).
    full = [*binding.module.split("."), *chain[1:]]
    known = {binding.module}
    for sub in binding.submodules:
        parts = sub.split(".")
        known.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    for i in range(len(full) - 1, 0, -1):
        module = ".".join(full[:i])
        if module in known:
            rest = full[i:]
            return Ref(Symbol(module, rest[0]), tuple(rest[1:]))
    return f"'{'.'.join(chain)}' is a module, not a type or value"


def ref_qualname(ref: Ref) -> str:
    return canonical_qualname(".".join([ref.symbol.qualname, *ref.attrs]))


def qualname_of(scope: ModuleScope, node: cst.BaseExpression) -> str | None:
    """The qualified name a Name/Attribute chain (or a string holding one) refers to."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        text = string_value(node)
        if text is None:
            return None
        try:
            node = cst.parse_expression(text.strip())
        except cst.ParserSyntaxError:
            return None
    chain = dotted(node)
    if chain is None:
        return None
    ref = _symbol_for_chain(scope, chain.split("."))
    return ref_qualname(ref) if isinstance(ref, Ref) else None


def string_value(node: cst.BaseExpression) -> str | None:
    try:
        if isinstance(node, cst.SimpleString):
            value = ast.literal_eval(node.value)
        elif isinstance(node, cst.ConcatenatedString):
            left = string_value(node.left)
            right = string_value(node.right)
            return None if left is None or right is None else left + right
        else:
            return None
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


class _NameCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[cst.Name] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)


def _names_in(node: cst.CSTNode) -> list[cst.Name]:
    collector = _NameCollector()
    node.visit(collector)
    return collector.names


@dataclass(frozen=True)
class ClassScope:
    """A class body's own names, which its methods' defaults (and annotations Python
    evaluates there) see before the module's: ``def run_api(self, k: int = LIMIT)`` under
    ``LIMIT = 5`` in the class. ``symbol`` is the class; its names become its attributes."""

    symbol: Symbol
    names: frozenset[str]


@dataclass
class _Rewriter(cst.CSTTransformer):
    scope: ModuleScope
    annotation: bool
    refs: list[Ref] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    anchor: cst.CSTNode | None = None  # node to blame for problems inside parsed strings
    class_scope: ClassScope | None = None
    # a name whose value at definition time importing it may not give (class or rebound)
    definition_time: bool = False
    _skip: set[int] = field(default_factory=set)
    _modes: list[bool] = field(default_factory=list)
    _element_modes: dict[int, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()
        self._modes = [self.annotation]

    def _blame(self, node: cst.CSTNode) -> cst.CSTNode:
        return self.anchor if self.anchor is not None else node

    def _replace(self, original: cst.CSTNode, chain: str) -> cst.BaseExpression:
        parts = chain.split(".")
        if self.class_scope is not None and parts[0] in self.class_scope.names:
            self.definition_time = True
            self.refs.append(Ref(self.class_scope.symbol, tuple(parts)))
            return cst.Name(_PLACEHOLDER.format(len(self.refs) - 1))
        if parts[0] in self.scope.rebound:
            self.definition_time = True
        result = _symbol_for_chain(self.scope, parts)
        if isinstance(result, str):
            self.problems.append(Problem(self._blame(original), result))
            return cst.Name(_PLACEHOLDER.format(len(self.refs) + 10_000))
        self.refs.append(result)
        return cst.Name(_PLACEHOLDER.format(len(self.refs) - 1))

    # keyword names, lambda parameters and comprehension targets are not references
    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    def _comprehension(self, node: cst.BaseComp | cst.DictComp) -> None:
        """Names a comprehension's ``for`` targets bind are its own, everywhere in it but the
        first iterable (evaluated outside it)."""
        bound: set[str] = set()
        comp: cst.CompFor | None = node.for_in
        while comp is not None:
            bound.update(n.value for n in _names_in(comp.target))
            comp = comp.inner_for_in
        outside = {id(n) for n in _names_in(node.for_in.iter)}
        self._skip.update(
            id(n) for n in _names_in(node) if n.value in bound and id(n) not in outside
        )

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._comprehension(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._comprehension(node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self.problems.append(
            Problem(self._blame(node), "lambda expressions are not supported here")
        )
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if dotted(node) is not None:
            return False  # replaced whole (leave_Attribute)
        self._skip.add(id(node.attr))  # ``"a,b".split``: ``split`` is no name of the module
        return True

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        chain = dotted(original_node)
        if chain is None:
            return updated_node
        root: cst.BaseExpression = original_node
        while isinstance(root, cst.Attribute):
            root = root.value
        if id(root) in self._skip:
            return updated_node  # ``x.real`` where ``x`` is a comprehension's own
        return self._replace(original_node, chain)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if id(original_node) in self._skip:
            return updated_node
        if original_node.value in {"None", "True", "False"}:
            return updated_node
        return self._replace(original_node, original_node.value)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        qual = qualname_of(self.scope, node.value)
        in_annotation = self._modes[-1]
        for index, element in enumerate(node.slice):
            if qual in LITERAL:
                mode = False
            elif qual in ANNOTATED:
                mode = in_annotation and index == 0
            else:
                mode = in_annotation
            self._element_modes[id(element)] = mode

    def visit_SubscriptElement(self, node: cst.SubscriptElement) -> None:
        self._modes.append(self._element_modes.get(id(node), self._modes[-1]))

    def leave_SubscriptElement(
        self, original_node: cst.SubscriptElement, updated_node: cst.SubscriptElement
    ) -> cst.SubscriptElement:
        self._modes.pop()
        return updated_node

    def visit_Call(self, node: cst.Call) -> None:
        self._modes.append(False)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        self._modes.pop()
        return updated_node

    def _string(
        self,
        original: cst.SimpleString | cst.ConcatenatedString,
        updated: cst.BaseExpression,
    ) -> cst.BaseExpression:
        if not self._modes[-1]:
            return updated
        text = string_value(original)
        if text is None:
            self.problems.append(Problem(self._blame(original), "unsupported string annotation"))
            return updated
        try:
            parsed = cst.parse_expression(text.strip())
        except cst.ParserSyntaxError:
            self.problems.append(
                Problem(self._blame(original), f"string annotation {text!r} is not an expression")
            )
            return updated
        inner = _Rewriter(self.scope, True, anchor=self._blame(original))
        inner.refs = self.refs
        inner.problems = self.problems
        rewritten = parsed.visit(inner)
        assert isinstance(rewritten, cst.BaseExpression)
        if isinstance(rewritten, cst.BinaryOperation | cst.BooleanOperation):
            rewritten = rewritten.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return rewritten

    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.BaseExpression:
        return self._string(original_node, updated_node)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        return False

    def leave_ConcatenatedString(
        self, original_node: cst.ConcatenatedString, updated_node: cst.ConcatenatedString
    ) -> cst.BaseExpression:
        return self._string(original_node, updated_node)


# Expressions whose parentheses are part of them where the renderer puts them (a keyword
# argument): ``(1, "a")``, ``()``, ``(x for x in y)``, ``(n := 1)``.
_NEEDS_PARENTHESES = (cst.Tuple, cst.GeneratorExp, cst.NamedExpr, cst.Yield)


def resolve_expr(
    scope: ModuleScope,
    node: cst.BaseExpression,
    *,
    annotation: bool,
    class_scope: ClassScope | None = None,
) -> tuple[Expr, list[Problem]]:
    """Rewrite ``node`` into an ``Expr``; problems carry the node to locate them by."""
    expr, rewriter = _resolve(scope, node, annotation, class_scope)
    return expr, rewriter.problems


def resolve_default(
    scope: ModuleScope, node: cst.BaseExpression, class_scope: ClassScope | None
) -> tuple[Expr, bool, list[Problem]]:
    """A parameter default, and whether its value is only known as Python evaluated it when
    the method was defined: it names something of the class body, or a module name bound
    more than once (``K = 1``, the class, ``K = 2``: the default is 1, importing gives 2)."""
    expr, rewriter = _resolve(scope, node, False, class_scope)
    return expr, rewriter.definition_time, rewriter.problems


def _resolve(
    scope: ModuleScope,
    node: cst.BaseExpression,
    annotation: bool,
    class_scope: ClassScope | None,
) -> tuple[Expr, _Rewriter]:
    rewriter = _Rewriter(scope, annotation, class_scope=class_scope)
    rewritten = node.visit(rewriter)
    assert isinstance(rewritten, cst.BaseExpression)
    if not isinstance(rewritten, _NEEDS_PARENTHESES):
        bare = rewritten.with_changes(lpar=[], rpar=[])
        # parentheses that span lines are what lets the expression span them
        if "\n" not in _EMPTY_MODULE.code_for_node(bare):
            rewritten = bare
    code = _EMPTY_MODULE.code_for_node(rewritten)
    for index in range(len(rewriter.refs)):
        code = code.replace(_PLACEHOLDER.format(index), ref_marker(index))
    source = _EMPTY_MODULE.code_for_node(node)
    return Expr(code, tuple(rewriter.refs), source), rewriter
