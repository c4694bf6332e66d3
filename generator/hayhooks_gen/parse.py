"""Stage 2: read each pipeline's source with libcst into the frozen model.

Never imports or runs wrapper code. Problems are collected per file and located lazily:
libcst positions are computed only for a module that has something to report.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

import docstring_parser
import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from hayhooks_gen.diagnostics import BuildError, Diagnostic
from hayhooks_gen.discover import WRAPPER_FILE, Discovery, PipelineSource
from hayhooks_gen.model import (
    CHAT_METHODS,
    KNOWN_METHODS,
    RESPONSE_METHODS,
    RUN_METHODS,
    UPLOAD_METHODS,
    Expr,
    Handler,
    Method,
    Param,
    ParamKind,
    Pipeline,
    ReturnKind,
    Service,
    WrapperFile,
)
from hayhooks_gen.resolve import Problem, qualname_of, resolve_expr, string_value
from hayhooks_gen.rewrite import mentions_hayhooks, rewrite_imports
from hayhooks_gen.scope import ModuleScope, collect_scope

RESPONSE_CLASSES = frozenset(
    f"{module}.{name}"
    for module in ("fastapi.responses", "starlette.responses")
    for name in (
        "Response",
        "HTMLResponse",
        "PlainTextResponse",
        "JSONResponse",
        "RedirectResponse",
        "StreamingResponse",
        "FileResponse",
        "ORJSONResponse",
        "UJSONResponse",
    )
) | {"fastapi.Response", "starlette.responses.Response"}
GENERATORS = frozenset(
    f"{module}.{name}"
    for module in ("typing", "typing_extensions", "collections.abc")
    for name in ("Generator", "AsyncGenerator")
)
SSE_STREAM = "hayhooks.SSEStream"
HEADERS = frozenset({"starlette.datastructures.Headers", "fastapi.datastructures.Headers"})
# Hayhooks refuses a wrapper implementing none of these (run_file_upload alone is not enough).
RUN_CAPABLE = (*RUN_METHODS, *CHAT_METHODS, *RESPONSE_METHODS)


@dataclass
class _File:
    """One source file under analysis, with the problems found in it."""

    path: str  # relative to the wrappers root, for messages
    module: cst.Module
    problems: list[tuple[cst.CSTNode, str]] = field(default_factory=list)
    # False when the text holds no "yield" at all: then no function in it is a generator,
    # and no tree needs walking to tell (the walk costs more than parsing a small wrapper).
    may_yield: bool = True

    def report(self, node: cst.CSTNode, message: str) -> None:
        self.problems.append((node, message))

    def diagnostics(self) -> list[Diagnostic]:
        if not self.problems:
            return []
        positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        out = []
        for node, message in self.problems:
            pos = positions.get(node)
            line, col = (pos.start.line, pos.start.column + 1) if pos else (1, 1)
            out.append(Diagnostic(self.path, line, col, message))
        return out


def _decode(path: str, content: bytes) -> str | Diagnostic:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = content[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return Diagnostic(path, line, col, "source is not valid UTF-8")


def _parse_module(path: str, content: bytes) -> cst.Module | Diagnostic:
    text = _decode(path, content)
    if isinstance(text, Diagnostic):
        return text
    if "\0" in text:
        before = text[: text.index("\0")]
        line = before.count("\n") + 1
        return Diagnostic(
            path, line, len(before) - (before.rfind("\n") + 1) + 1, "source contains a null byte"
        )
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        # Python's own parser names the problem and its place more precisely than libcst.
        try:
            ast.parse(text)
        except SyntaxError as err:
            return Diagnostic(path, err.lineno or 1, err.offset or 1, f"syntax error: {err.msg}")
        return Diagnostic(path, exc.editor_line, exc.editor_column, f"syntax error: {exc.message}")


def _class_methods(
    scope: ModuleScope, cls: cst.ClassDef, seen: set[str]
) -> dict[str, cst.FunctionDef]:
    """Methods of ``cls``, including those of base classes defined in the same module."""
    methods: dict[str, cst.FunctionDef] = {}
    for base in reversed(cls.bases):
        base_name = base.value.value if isinstance(base.value, cst.Name) else None
        if base_name and base_name in scope.classes and base_name not in seen:
            seen.add(base_name)
            methods.update(_class_methods(scope, scope.classes[base_name], seen))
    for stmt in cls.body.body:
        if isinstance(stmt, cst.FunctionDef):
            methods[stmt.name.value] = stmt
    return methods


def _class_attrs(cls: cst.ClassDef) -> dict[str, cst.BaseExpression]:
    attrs: dict[str, cst.BaseExpression] = {}
    for stmt in cls.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        attrs[target.target.value] = small.value
            elif (
                isinstance(small, cst.AnnAssign)
                and isinstance(small.target, cst.Name)
                and small.value is not None
            ):
                attrs[small.target.value] = small.value
    return attrs


def _is_response_subclass(
    scope: ModuleScope, qual: str, seen: frozenset[str] = frozenset()
) -> bool:
    if qual in RESPONSE_CLASSES:
        return True
    prefix = f"{scope.module}."
    if not qual.startswith(prefix) or qual in seen:
        return False
    cls = scope.classes.get(qual[len(prefix) :])
    if cls is None:
        return False
    for base in cls.bases:
        base_qual = qualname_of(scope, base.value)
        if base_qual and _is_response_subclass(scope, base_qual, seen | {qual}):
            return True
    return False


def _return_kind(scope: ModuleScope, node: cst.BaseExpression) -> ReturnKind:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        text = string_value(node)
        try:
            node = cst.parse_expression((text or "").strip())
        except cst.ParserSyntaxError:
            return ReturnKind.JSON
    qual = qualname_of(scope, node.value if isinstance(node, cst.Subscript) else node)
    if qual in GENERATORS:
        return ReturnKind.STREAM
    if qual == SSE_STREAM:
        return ReturnKind.SSE
    if qual is not None and _is_response_subclass(scope, qual):
        return ReturnKind.RESPONSE
    return ReturnKind.JSON


class _YieldFinder(cst.CSTVisitor):
    """Finds a ``yield`` of the visited function itself (not of a nested scope)."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> bool:
        self.found = True
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _is_generator_function(func: cst.FunctionDef) -> bool:
    """Whether calling ``func`` just creates a generator: a sync def whose own body yields,
    with no decorator that could make it something else."""
    if func.asynchronous is not None or func.decorators:
        return False
    finder = _YieldFinder()
    func.body.visit(finder)
    return finder.found


def _docstring(func: cst.FunctionDef) -> docstring_parser.Docstring:
    text = func.get_docstring(clean=True) or ""
    return docstring_parser.parse(text)


def _method(source: _File, scope: ModuleScope, func: cst.FunctionDef) -> Method:
    doc = _docstring(func)
    param_docs = {p.arg_name: p.description for p in doc.params}
    params: list[Param] = []
    wants_headers = False
    p = func.params
    for star, stars in ((p.star_arg, "*"), (p.star_kwarg, "**")):
        if isinstance(star, cst.Param):
            source.report(
                star,
                f"'{func.name.value}' takes {stars}{star.name.value}: a request body fills named "
                "parameters only; declare each one",
            )
    positional = [*p.posonly_params, *p.params]
    if positional and positional[0].name.value == "self":
        positional = positional[1:]  # self may be positional-only: it is never in the body
    else:
        source.report(
            func.name, f"'{func.name.value}' must be an instance method taking 'self' first"
        )
    posonly = {id(param) for param in p.posonly_params}
    for param in positional:
        if id(param) in posonly:
            source.report(param, "positional-only parameters cannot be filled from a request body")
    ordered = [
        (param, ParamKind.POSITIONAL_OR_KEYWORD) for param in positional if id(param) not in posonly
    ]
    ordered += [(param, ParamKind.KEYWORD_ONLY) for param in p.kwonly_params]
    for param, kind in ordered:
        name = param.name.value
        if param.annotation is None:
            source.report(
                param, f"parameter '{name}' of '{func.name.value}' has no type annotation"
            )
            continue
        annotation, problems = resolve_expr(scope, param.annotation.annotation, annotation=True)
        _report(source, problems)
        if name == "headers" and _wants_headers(source, scope, func):
            wants_headers = True
            continue
        default: Expr | None = None
        if param.default is not None:
            default, problems = resolve_expr(scope, param.default, annotation=False)
            _report(source, problems)
        description = param_docs.get(name) or f"Parameter '{name}'"
        params.append(Param(name, kind, annotation, default, description))
    returns: Expr | None = None
    return_kind: ReturnKind | None = None
    if func.returns is None:
        source.report(
            func.name,
            f"'{func.name.value}' has no return annotation: the response is built from it "
            "(annotate it, e.g. '-> dict')",
        )
    else:
        returns, problems = resolve_expr(scope, func.returns.annotation, annotation=True)
        _report(source, problems)
        return_kind = _return_kind(scope, func.returns.annotation)
    return Method(
        name=func.name.value,
        is_async=func.asynchronous is not None,
        params=tuple(params),
        returns=returns,
        return_kind=return_kind,
        return_description=doc.returns.description if doc.returns else None,
        short_description=doc.short_description or None,
        wants_headers=wants_headers,
        is_generator=source.may_yield and _is_generator_function(func),
    )


def _wants_headers(source: _File, scope: ModuleScope, func: cst.FunctionDef) -> bool:
    """The Hayhooks 2.1.0 opt-in: a parameter ``headers: Headers | None = None``.

    Any other declaration of a ``Headers`` parameter named ``headers`` is refused, as
    Hayhooks refuses to load it.
    """
    kinds = [(p, False) for p in func.params.params] + [
        (p, True) for p in func.params.kwonly_params
    ]
    for param, _ in kinds:
        if param.name.value != "headers" or param.annotation is None:
            continue
        annotation = param.annotation.annotation
        parts = _union_parts(annotation)
        if not any(qualname_of(scope, part) in HEADERS for part in parts):
            return False
        is_optional = len(parts) == 2 and any(
            isinstance(part, cst.Name) and part.value == "None" for part in parts
        )
        has_none_default = isinstance(param.default, cst.Name) and param.default.value == "None"
        if not (is_optional and has_none_default):
            source.report(
                param,
                f"'{func.name.value}': request headers must be declared as a keyword parameter "
                "'headers: Headers | None = None'",
            )
            return False
        return True
    return False


def _union_parts(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return [*_union_parts(node.left), *_union_parts(node.right)]
    return [node]


def _report(source: _File, problems: Iterable[Problem]) -> None:
    for problem in problems:
        source.report(problem.node, problem.message)


def _literal_bool(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


DEPLOYMENT_TYPES = ("agent", "pipeline", "unknown")
_LITERALS = (cst.Integer, cst.Float, cst.Imaginary, cst.List, cst.Tuple, cst.Dict, cst.Set)


def _check_deployment_type(source: _File, node: cst.BaseExpression | None) -> None:
    """A literal ``deployment_type`` must be one Hayhooks accepts (it refuses to deploy the
    wrapper otherwise); a computed one is checked by the service at start-up."""
    if node is None or (isinstance(node, cst.Name) and node.value == "None"):
        return
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        if node.evaluated_value in DEPLOYMENT_TYPES:
            return
    elif not isinstance(node, _LITERALS) and not (
        isinstance(node, cst.Name) and node.value in ("True", "False")
    ):
        return
    shown = cst.Module(body=[]).code_for_node(node)
    source.report(
        node, f"deployment_type must be 'agent', 'pipeline', 'unknown' or None, not {shown}"
    )


@dataclass
class _Rewritten:
    files: list[WrapperFile] = field(default_factory=list)
    hayhooks_names: set[str] = field(default_factory=set)
    runtime_names: set[str] = field(default_factory=set)
    uses_haystack: bool = False


def _rewrite_files(
    pipeline: PipelineSource, wrapper_module: cst.Module | None, diagnostics: list[Diagnostic]
) -> _Rewritten:
    out = _Rewritten()
    files = out.files
    for relpath, content in pipeline.files:
        if relpath.endswith(".py") and (
            b"import haystack" in content or b"from haystack" in content
        ):
            out.uses_haystack = True
        if not relpath.endswith(".py") or not mentions_hayhooks(content):
            files.append(WrapperFile(relpath, content))
            continue
        path = f"{pipeline.folder}/{relpath}"
        module = wrapper_module if relpath == WRAPPER_FILE else None
        if module is None:
            parsed = _parse_module(path, content)
            if isinstance(parsed, Diagnostic):
                diagnostics.append(parsed)
                continue
            module = parsed
        rewrite = rewrite_imports(module, content, depth=relpath.count("/"))
        source = _File(path, module, list(rewrite.problems))
        diagnostics.extend(source.diagnostics())
        out.hayhooks_names |= rewrite.hayhooks_names
        out.runtime_names |= rewrite.runtime_names
        files.append(WrapperFile(relpath, content if rewrite.code is None else rewrite.code))
    return out


def parse_pipeline(pipeline: PipelineSource) -> tuple[Pipeline | None, list[Diagnostic]]:
    path = f"{pipeline.folder}/{WRAPPER_FILE}"
    content = pipeline.read(WRAPPER_FILE) or b""
    module = _parse_module(path, content)
    if isinstance(module, Diagnostic):
        return None, [module]
    source = _File(path, module, may_yield=b"yield" in content)
    scope = collect_scope(module, ".pipeline_wrapper")
    source.problems.extend(scope.problems)
    cls = scope.classes.get("PipelineWrapper")
    diagnostics: list[Diagnostic] = []
    if cls is None:
        return None, [
            Diagnostic(path, 1, 1, "no 'PipelineWrapper' class is defined in this module")
        ]
    methods = _class_methods(scope, cls, {"PipelineWrapper"})
    implemented = tuple(m for m in KNOWN_METHODS if m in methods)
    if not any(m in implemented for m in RUN_CAPABLE):
        source.report(
            cls.name,
            "'PipelineWrapper' implements none of run_api, run_api_async, "
            "run_chat_completion(_async), run_response(_async)",
        )
    run_func = methods.get("run_api_async") or methods.get("run_api")
    run = _method(source, scope, run_func) if run_func is not None else None
    handlers = tuple(
        Handler(
            name,
            methods[name].asynchronous is not None,
            _wants_headers(source, scope, methods[name]),
        )
        for name in (*CHAT_METHODS, *RESPONSE_METHODS, *UPLOAD_METHODS)
        if name in methods
    )
    attrs = _class_attrs(cls)
    _check_deployment_type(source, attrs.get("deployment_type"))
    a2a = attrs.get("a2a_card")
    rewritten = _rewrite_files(pipeline, module, diagnostics)
    diagnostics.extend(source.diagnostics())
    if diagnostics:
        return None, diagnostics
    return (
        Pipeline(
            name=pipeline.name,
            ident=pipeline.ident,
            folder=pipeline.folder,
            run=run,
            implemented=implemented,
            handlers=handlers,
            skip_mcp=_literal_bool(attrs.get("skip_mcp")),
            skip_a2a=_literal_bool(attrs.get("skip_a2a")),
            a2a_card=cst.Module(body=[]).code_for_node(a2a) if a2a is not None else None,
            files=tuple(rewritten.files),
            hayhooks_names=tuple(sorted(rewritten.hayhooks_names)),
            runtime_names=tuple(sorted(rewritten.runtime_names)),
            uses_haystack=rewritten.uses_haystack,
        ),
        [],
    )


def parse(discovery: Discovery, package: str) -> Service:
    """Parse every discovered pipeline; raise ``BuildError`` with all problems of all files."""
    pipelines: list[Pipeline] = []
    diagnostics: list[Diagnostic] = list(discovery.errors)
    for source in discovery.pipelines:
        pipeline, problems = parse_pipeline(source)
        diagnostics.extend(problems)
        if pipeline is not None:
            pipelines.append(pipeline)
    if diagnostics:
        raise BuildError(diagnostics)
    return Service(tuple(pipelines), package, discovery.requirements)
