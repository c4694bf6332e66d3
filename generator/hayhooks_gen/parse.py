"""Stage 2: read each pipeline's source with libcst into the frozen model.

Never imports or runs wrapper code. Problems are collected per file and located lazily:
libcst positions are computed only for a module that has something to report.
"""

from __future__ import annotations

import ast
import codecs
import functools
import re
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import docstring_parser
import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from hayhooks_gen.diagnostics import BuildError, Diagnostic
from hayhooks_gen.discover import WRAPPER_FILE, Discovery, PipelineSource
from hayhooks_gen.folder_imports import (
    missing_imports,
    top_level_names,
    unconditional_relative_imports,
)
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
    Symbol,
    WrapperFile,
)
from hayhooks_gen.resolve import (
    ANNOTATED,
    ClassScope,
    Problem,
    qualname_of,
    resolve_default,
    resolve_expr,
    string_value,
)
from hayhooks_gen.rewrite import mentions_hayhooks, rewrite_imports
from hayhooks_gen.scope import (
    ABOVE_FOLDER,
    ModuleScope,
    OwnScopeVisitor,
    class_body_names,
    collect_scope,
    names_type_checking,
    relative_module,
)

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
) | {
    "fastapi.Response",
    "starlette.responses.Response",
    # FastAPI 0.135 and newer
    "fastapi.responses.EventSourceResponse",
    "fastapi.sse.EventSourceResponse",
    "fastapi.sse.StreamingResponse",
}
# Modules outside the pipeline folder known to define no Response subclass: a class from
# anywhere else may be one, which only importing it tells (ReturnKind.IMPORTED).
NO_RESPONSE_MODULES = frozenset(
    {
        "builtins",
        "typing",
        "typing_extensions",
        "collections",
        "collections.abc",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "ipaddress",
        "pathlib",
        "uuid",
        "pydantic",
        "pydantic_core",
        "haystack",
        "hayhooks",
    }
)
GENERATORS = frozenset(
    f"{module}.{name}"
    for module in ("typing", "typing_extensions", "collections.abc")
    for name in ("Generator", "AsyncGenerator")
)
# Return annotations pydantic builds no response model for, so Hayhooks does not start
# (only Generator and AsyncGenerator are streaming annotations to it).
ITERATORS = frozenset(
    f"{module}.{name}"
    for module in ("typing", "typing_extensions", "collections.abc")
    for name in ("Iterator", "AsyncIterator", "AsyncIterable")
)
SSE_STREAM = "hayhooks.SSEStream"
HEADERS = frozenset(
    {
        "starlette.datastructures.Headers",
        "starlette.requests.Headers",  # imported there from datastructures
        "fastapi.datastructures.Headers",
    }
)
# Hayhooks refuses a wrapper implementing none of these (run_file_upload alone is not enough).
RUN_CAPABLE = (*RUN_METHODS, *CHAT_METHODS, *RESPONSE_METHODS)
# Hayhooks 2.1.0's durable executions (POST /NAME/run-durable, /NAME/executions/...): not
# generated; a wrapper defining them is told so.
DURABLE_METHODS = ("run_durable", "run_durable_async")
SERVED_METHODS = frozenset((*RUN_CAPABLE, *UPLOAD_METHODS))


def _no_durable(pipeline: str) -> str:
    return (
        "hayhooks-gen does not generate durable execution routes "
        f"(/{pipeline}/run-durable, /{pipeline}/executions/...)"
    )


@dataclass
class _File:
    """One source file under analysis, with the problems found in it."""

    path: str  # relative to the wrappers root, for messages
    module: cst.Module
    problems: list[tuple[cst.CSTNode, str]] = field(default_factory=list)
    # False when the text holds no "yield" at all: then no function in it is a generator,
    # and no tree needs walking to tell (the walk costs more than parsing a small wrapper).
    may_yield: bool = True
    # False when the text holds no "self.run_": then no method assigns a run method to the
    # instance, and setup() needs no walk to tell.
    may_assign_run: bool = True
    cautions: list[tuple[cst.CSTNode, str]] = field(default_factory=list)  # become warnings

    def report(self, node: cst.CSTNode, message: str) -> None:
        self.problems.append((node, message))

    def warn(self, node: cst.CSTNode, message: str) -> None:
        self.cautions.append((node, message))

    def diagnostics(self) -> list[Diagnostic]:
        return self._locate(self.problems)

    def warnings(self) -> list[Diagnostic]:
        return self._locate(self.cautions, "warning")

    def _locate(
        self, found: list[tuple[cst.CSTNode, str]], level: str = "error"
    ) -> list[Diagnostic]:
        if not found:
            return []
        positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        out = []
        for node, message in found:
            pos = positions.get(node)
            line, col = (pos.start.line, pos.start.column + 1) if pos else (1, 1)
            out.append(Diagnostic(self.path, line, col, message, level))
        return out


def _decode(path: str, content: bytes) -> str | Diagnostic:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = content[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return Diagnostic(path, line, col, "source is not valid UTF-8")
    declared = _declared_encoding(text)
    if declared is not None:
        line, name = declared
        try:
            codec = _normal_codec(name)
        except LookupError:
            return Diagnostic(path, line, 1, f"source declares an unknown encoding '{name}'")
        if codec == "ascii" and not text.isascii():
            return Diagnostic(
                path, line, 1, "source declares encoding 'ascii' but holds non-ASCII characters"
            )
        if codec not in ("utf-8", "ascii") and not text.isascii():
            return Diagnostic(
                path,
                line,
                1,
                f"source declares encoding '{name}', which Python reads it in: hayhooks-gen "
                "reads UTF-8 only (convert the file to UTF-8 and drop the declaration)",
            )
    return text


def _normal_codec(name: str) -> str:
    """The codec Python's tokenizer takes a declared name for: ``utf-8-unix`` and
    ``utf_8`` are UTF-8 there (as Emacs writes them), anything else goes through codecs."""
    lowered = name.lower().replace("_", "-")
    if lowered == "utf-8" or lowered.startswith("utf-8-"):
        return "utf-8"
    return codecs.lookup(name).name


# PEP 263: a comment on line 1 or 2 naming the encoding Python decodes the file with.
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT = re.compile(r"^[ \t\f]*(#.*)?$")


def _declared_encoding(text: str) -> tuple[int, str] | None:
    lines = text.removeprefix("\ufeff").split("\n", 2)[:2]
    for number, line in enumerate(lines, start=1):
        found = _CODING.match(line)
        if found is not None:
            return number, found.group(1)
        if not _BLANK_OR_COMMENT.match(line.rstrip("\r")):
            return None
    return None


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
    # Python first: it names a problem and its place more precisely than libcst, and refuses
    # what libcst's parser would crash on (200 brackets deep, a flat sum of 10,000 terms).
    python = _python_reading(path, content)
    if python.problem is not None and python.tree is None:
        return python.problem
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return Diagnostic(path, exc.editor_line, exc.editor_column, f"syntax error: {exc.message}")
    except RecursionError:
        return Diagnostic(path, 1, 1, TOO_DEEP)


TOO_DEEP = "code nested too deeply to read (Python's recursion limit)"
TOO_DEEP_TO_COMPILE = "code nested too deeply for Python's compiler"


def _syntax_error(path: str, err: SyntaxError) -> Diagnostic:
    return Diagnostic(
        path, max(err.lineno or 1, 1), max(err.offset or 1, 1), f"syntax error: {err.msg}"
    )


@dataclass
class _Module:
    """A parsed module of the pipeline folder: its file (problems are located there) and the
    names it binds."""

    source: _File
    scope: ModuleScope


class _Folder:
    """The Python modules of one pipeline folder, each parsed once, when first needed."""

    def __init__(self, pipeline: PipelineSource, wrapper: _Module) -> None:
        self.pipeline = pipeline
        self.loaded: dict[str, _Module | None] = {wrapper.scope.module: wrapper}
        self.failed: list[Diagnostic] = []  # modules that do not parse

    def module(self, name: str) -> _Module | None:
        """Module ``name`` (relative: ".helper", ".sub.util", "." for the folder's
        ``__init__.py``), or None when no file of the folder holds it or it does not parse."""
        parts = [part for part in name.split(".") if part]
        name = "." + ".".join(parts)  # "..helper", from ``from . import helper``, is ".helper"
        if name in self.loaded:
            return self.loaded[name]
        self.loaded[name] = None
        stem = "/".join(parts)
        candidates = [(f"{stem}.py", False)] if stem else []
        candidates.append((f"{stem}/__init__.py" if stem else "__init__.py", True))
        for relpath, is_package in candidates:
            content = self.pipeline.read(relpath)
            if content is None:
                continue
            path = f"{self.pipeline.folder}/{relpath}"
            parsed = _parse_module(path, content)
            if isinstance(parsed, Diagnostic):
                self.failed.append(parsed)
                return None
            scope = collect_scope(parsed, name, is_package=is_package)
            source = _File(
                path,
                parsed,
                list(scope.problems),
                may_yield=b"yield" in content,
                may_assign_run=b"self.run_" in content,
            )
            found = self.loaded[name] = _Module(source, scope)
            return found
        return None

    def modules(self) -> list[_Module]:
        return [m for m in self.loaded.values() if m is not None]


# Bases with no methods of interest, and Hayhooks' own base (whose run_* are the unimplemented
# stubs): not looked into, not warned about.
_PLAIN_BASES = frozenset(
    {"builtins.object", "abc.ABC", "typing.Generic", "typing_extensions.Generic"}
) | {"hayhooks.BasePipelineWrapper"}


@dataclass
class _Members:
    """A class's methods and class attributes, its bases' included (a base's are overridden
    by the class's own, a later base's by an earlier one's), each with the module it is
    written in; and the bases that could not be read."""

    methods: dict[str, tuple[cst.FunctionDef, _Module]] = field(default_factory=dict)
    attrs: dict[str, tuple[cst.BaseExpression, _Module]] = field(default_factory=dict)
    unread: list[tuple[cst.CSTNode, str]] = field(default_factory=list)
    owners: dict[str, cst.ClassDef] = field(default_factory=dict)  # the class defining each method
    # The nearest definition of each method that has a docstring: inspect.getdoc, which
    # Hayhooks reads, takes an overridden method's docstring when the override has none.
    documented: dict[str, cst.FunctionDef] = field(default_factory=dict)


def _members(
    folder: _Folder, home: _Module, cls: cst.ClassDef, seen: set[tuple[str, str]]
) -> _Members:
    """Members of ``cls``, defined in ``home``: bases are followed into the pipeline folder's
    other modules (``from .base import SharedBase``), as Hayhooks' method lookup would."""
    out = _Members()
    for base in reversed(cls.bases):
        found = _base_class(folder, home, base.value, 0)
        if isinstance(found, str):
            out.unread.append((base.value, found))
            continue
        if found is None:
            continue
        module, base_cls = found
        key = (module.scope.module, base_cls.name.value)
        if key in seen:
            continue
        seen.add(key)
        inherited = _members(folder, module, base_cls, seen)
        out.methods.update(inherited.methods)
        out.attrs.update(inherited.attrs)
        out.unread += inherited.unread
        out.owners.update(inherited.owners)
        out.documented.update(inherited.documented)
    for stmt in cls.body.body:
        if isinstance(stmt, cst.FunctionDef):
            out.methods[stmt.name.value] = (stmt, home)
            out.owners[stmt.name.value] = cls
            if stmt.get_docstring() is not None:
                out.documented[stmt.name.value] = stmt
    for name, value in _class_attrs(cls).items():
        out.attrs[name] = (value, home)
    return out


class _SelfAssignments(OwnScopeVisitor):
    """``self.<run method> = ...`` in the visited function itself (not in nested scopes)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[cst.CSTNode, str]] = []

    def _target(self, target: cst.BaseExpression) -> None:
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
            and target.attr.value in SERVED_METHODS
        ):
            self.found.append((target, target.attr.value))

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target)


def _assigned_in_setup(
    methods: dict[str, tuple[cst.FunctionDef, _Module]],
) -> list[tuple[_File, cst.CSTNode, str]]:
    """``self.run_api = ...`` and the like in ``setup()``, with the file they are in."""
    if "setup" not in methods:
        return []
    setup, home = methods["setup"]
    if not home.source.may_assign_run:
        return []
    finder = _SelfAssignments()
    setup.body.visit(finder)
    return [(home.source, node, method) for node, method in finder.found]


def _check_served(name: str, source: _File, cls: cst.ClassDef, members: _Members) -> None:
    """What Hayhooks would serve that this build does not see or does not generate: an error
    when nothing is left to serve, located warnings otherwise."""
    methods = members.methods
    unseen: list[tuple[_File, cst.CSTNode, str, str]] = []  # file, node, warning, error note
    for node, qual in members.unread:
        unseen.append(
            (
                source,
                node,
                f"base class '{qual}' is outside the pipeline folder: a run_* method defined "
                "there is not seen, so not served; define it in PipelineWrapper",
                f"its base '{qual}' is outside the pipeline folder, where a static reader "
                "cannot see its methods: define the method in PipelineWrapper; it can call "
                "super()",
            )
        )
    for method in DURABLE_METHODS:
        if method in methods:
            func, home = methods[method]
            why = _no_durable(name)
            unseen.append(
                (home.source, func.name, f"{method} is not served: {why}", f"{method}: {why}")
            )
    for method in sorted(SERVED_METHODS & members.attrs.keys() - methods.keys()):
        value, home = members.attrs[method]
        why = (
            f"'{method}' is assigned in the class body, not defined with def: run methods must "
            "be instance methods a static reader can see (README, Deliberate differences)"
        )
        unseen.append((home.source, value, f"{why}; it is not served", why))
    for file, node, method in _assigned_in_setup(methods):
        served = (
            "the route is built from the method the class defines"
            if method in methods
            else "it is not served"
        )
        why = (
            f"'self.{method}' is assigned in setup(): Hayhooks serves what it is assigned "
            "at start-up, which a static reader cannot see"
        )
        unseen.append((file, node, f"{why}; {served}: define {method} as a method", why))
    if any(m in methods for m in RUN_CAPABLE):
        for file, node, warning, _ in unseen:
            file.warn(node, warning)
        return
    message = (
        "'PipelineWrapper' implements none of run_api, run_api_async, "
        "run_chat_completion(_async), run_response(_async)"
    )
    message += "".join(f" ({note})" for _, _, _, note in unseen)
    source.report(cls.name, message)


_MAX_REEXPORTS = 8  # ``from .a import B`` where a.py itself imports B from elsewhere, ...


def _base_class(
    folder: _Folder, home: _Module, node: cst.BaseExpression, depth: int
) -> tuple[_Module, cst.ClassDef] | str | None:
    """The class a base expression names, with its module, when the pipeline folder holds
    it; its qualified name when it lies outside; None for a plain base or one that cannot be
    told (``Generic[T]``, an unresolvable name: Python itself reports those)."""
    if isinstance(node, cst.Name) and node.value in home.scope.classes:
        return home, home.scope.classes[node.value]
    qual = qualname_of(home.scope, node)
    if qual is None or qual in _PLAIN_BASES:
        return None
    if not qual.startswith("."):
        return qual
    module_name, _, class_name = qual.rpartition(".")
    module = folder.module(module_name or ".")
    if module is None:
        return qual
    if class_name in module.scope.classes:
        return module, module.scope.classes[class_name]
    if class_name in module.scope.bindings and depth < _MAX_REEXPORTS:
        return _base_class(folder, module, cst.Name(class_name), depth + 1)
    return qual


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
    folder: _Folder,
    qual: str,
    targets: frozenset[str] = RESPONSE_CLASSES,
    seen: frozenset[str] = frozenset(),
) -> bool | None:
    """Whether ``qual`` is one of ``targets`` (fastapi's and starlette's Response classes) or
    a class of the pipeline folder (any of its modules, re-exports followed) deriving from
    one. None when only importing it could tell: a name from outside the folder (a shared
    library, ``sse_starlette``, a Response class of fastapi or starlette not listed) unless
    its module is known to hold no Response (``NO_RESPONSE_MODULES``), a folder name that is
    no class statement (``X = lib.Thing``), or a folder class with such a base."""
    qual = _origin(folder, qual)  # re-exports followed
    if qual in targets:
        return True
    if qual in seen:
        return False
    if not qual.startswith("."):
        module_name = qual.rpartition(".")[0]
        known = any(
            module_name == m or module_name.startswith(f"{m}.") for m in NO_RESPONSE_MODULES
        )
        return False if known else None
    module_name, _, name = qual.rpartition(".")
    module = folder.module(module_name or ".")
    cls = module.scope.classes.get(name) if module is not None else None
    if module is None or cls is None:
        return None
    scope = module.scope
    unknown = False
    for base in cls.bases:
        base_qual = qualname_of(scope, base.value)
        found = (
            None
            if base_qual is None
            else _is_response_subclass(folder, base_qual, targets, seen | {qual})
        )
        if found:
            return True
        unknown |= found is None
    return None if unknown else False


class _NamedTypes(cst.CSTVisitor):
    """The qualified names an annotation's names and dotted names refer to."""

    def __init__(self, scope: ModuleScope) -> None:
        super().__init__()
        self.scope = scope
        self.found: list[str] = []

    def _add(self, node: cst.BaseExpression) -> None:
        qual = qualname_of(self.scope, node)
        if qual is not None:
            self.found.append(qual)

    def visit_Name(self, node: cst.Name) -> None:
        self._add(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self._add(node)
        return False


_MAX_ALIASES = 8  # ``A = B``, ``B = Optional[C]``, ...: how deep aliases are followed


def _named_types(folder: _Folder, scope: ModuleScope, node: cst.BaseExpression) -> list[str]:
    """The qualified names ``node`` refers to, through the folder's type aliases (a name
    assigned once, ``Stream = Iterator[str]``, in any module of the folder)."""
    found: list[str] = []
    pending = [(scope, node, 0)]
    while pending:
        where, expr, depth = pending.pop()
        names = _NamedTypes(where)
        expr.visit(names)
        for qual in names.found:
            found.append(qual)
            origin = _origin(folder, qual)
            module_name, _, name = origin.rpartition(".")
            module = folder.module(module_name or ".") if origin.startswith(".") else None
            if module is None or depth >= _MAX_ALIASES or name in module.scope.rebound:
                continue
            value = module.scope.values.get(name)
            if value is not None:
                pending.append((module.scope, value, depth + 1))
    return found


def _check_iterator(
    source: _File, func: cst.FunctionDef, qual: str | None, named: list[str]
) -> None:
    """``qual``: what ``func``'s return annotation names (``_annotation_head``); ``named``:
    every name in it (``_named_types``). An iterator inside it (``Optional[Iterator[str]]``,
    ``Annotated[...]``, an alias ``Stream = Iterator[str]``) fails the same way: the service
    started, and its ``/openapi.json`` and every request answered 500."""
    if func.returns is None:
        return
    if qual not in ITERATORS:
        qual = next((name for name in named if name in ITERATORS), None)
        if qual is None:
            return
    short = qual.rsplit(".", 1)[1]
    wanted = "AsyncGenerator[str, None]" if "Async" in short else "Generator[str, None, None]"
    source.report(
        func.returns,
        f"'{func.name.value}' returns {short}: Hayhooks builds no response model for it and "
        f"does not start; annotate a generator as {wanted}",
    )


def _check_response_inside(
    folder: _Folder, source: _File, func: cst.FunctionDef, named: list[str]
) -> None:
    """A Response class inside a JSON return annotation (``StreamingResponse | None``; ``named``:
    every name in it): pydantic builds no model of it, so Hayhooks does not start; the service
    started and answered 500."""
    if func.returns is None:
        return
    for qual in named:
        if _is_response_subclass(folder, qual):
            short = qual.rsplit(".", 1)[-1]
            source.report(
                func.returns,
                f"'{func.name.value}' returns {short} inside another type: Hayhooks builds no "
                f"response model for it and does not start; return the response alone "
                f"(-> {short})",
            )
            return


EVENT_SOURCE = frozenset(
    {"fastapi.responses.EventSourceResponse", "fastapi.sse.EventSourceResponse"}
)


def _warn_if_event_source(
    source: _File, func: cst.FunctionDef, folder: _Folder, qual: str | None
) -> None:
    """FastAPI (0.135 and newer) streams a route whose response class is its
    EventSourceResponse by iterating the endpoint as a generator of events; Hayhooks' endpoint,
    like the service's, returns the wrapper's Response instead, so every request fails."""
    if func.returns is not None and qual and _is_response_subclass(folder, qual, EVENT_SOURCE):
        source.warn(
            func.returns,
            f"'{func.name.value}' returns FastAPI's EventSourceResponse (or a subclass): FastAPI "
            "then expects the route to yield events, so every request fails (in Hayhooks too); "
            "return an SSEStream, or a Generator of 'data: ...' chunks",
        )


def _warn_if_hayhooks_calls_it_otherwise(source: _File, func: cst.FunctionDef) -> None:
    """Hayhooks picks how to call a method by its name (``*_async`` is awaited, the others run
    in a worker thread), the service by ``def`` or ``async def``: where they disagree, Hayhooks
    answers every request 500 and the service answers as the code says."""
    name = func.name.value
    if name.endswith("_async") and func.asynchronous is None:
        how = f"a plain def: Hayhooks awaits '{name}' and fails every request with a 500"
    elif not name.endswith("_async") and func.asynchronous is not None:
        if _own_body_yields(func):
            return  # an async generator: Hayhooks streams what the call returns, as we do
        if name in UPLOAD_METHODS:  # called as Hayhooks calls it, by both servers
            source.warn(
                func.name,
                f"'{name}' is an async def: Hayhooks and the service call it in a worker "
                "thread, get a coroutine and fail every upload with a 500",
            )
            return
        how = (
            f"an async def: Hayhooks calls '{name}' in a worker thread, gets a coroutine and "
            "fails every request with a 500"
        )
    else:
        return
    source.warn(func.name, f"'{name}' is {how}; the service calls it as written")


# What Hayhooks and the service pass a chat or responses method, besides ``model`` and
# ``body`` (and ``headers``, to a method that takes them).
_OPENAI_ITEMS = {
    **dict.fromkeys(CHAT_METHODS, "messages"),
    **dict.fromkeys(RESPONSE_METHODS, "input_items"),
}


def _warn_if_the_openai_call_fails(source: _File, func: cst.FunctionDef, headers: bool) -> None:
    """Both servers call ``run_chat_completion(model=..., messages=..., body=...)``
    (``run_response`` with ``input_items=``): a method that cannot take it fails every request."""
    name = func.name.value
    passed = ["model", _OPENAI_ITEMS[name], "body", *(["headers"] if headers else [])]
    p = func.params
    params = [*p.posonly_params, *p.params][1:] + list(p.kwonly_params)  # without self
    posonly = {id(param) for param in p.posonly_params}
    by_keyword = {param.name.value for param in params if id(param) not in posonly}
    reasons: list[str] = []
    if not isinstance(p.star_kwarg, cst.Param):
        absent = [k for k in passed if k not in by_keyword]
        if absent:
            reasons.append("takes no keyword " + ", ".join(f"'{k}'" for k in absent))
    unfilled = [
        param.name.value
        for param in params
        if param.default is None and (id(param) in posonly or param.name.value not in passed)
    ]
    if unfilled:
        reasons.append("requires " + ", ".join(f"'{k}'" for k in unfilled) + ", never passed")
    if reasons:
        items = _OPENAI_ITEMS[name]
        source.warn(
            func.name,
            f"'{name}' {' and '.join(reasons)}: Hayhooks and the service call it as "
            f"{name}(model=..., {items}=..., body=...), so every request fails with a 500",
        )


def _annotation_head(scope: ModuleScope, node: cst.BaseExpression) -> tuple[str | None, bool]:
    """The qualified name of what an annotation (a string too) names or subscripts, and
    whether it subscripts it: ``Generator[str, None, None]`` -> ("typing.Generator", True)."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        text = string_value(node)
        try:
            node = cst.parse_expression((text or "").strip())
        except cst.ParserSyntaxError:
            return None, False
    if isinstance(node, cst.Subscript):
        return qualname_of(scope, node.value), True
    return qualname_of(scope, node), False


def _return_kind(folder: _Folder, qual: str | None, subscripted: bool) -> ReturnKind:
    """``qual``, ``subscripted``: what the return annotation names (``_annotation_head``)."""
    if qual in GENERATORS:
        return ReturnKind.STREAM
    if qual == SSE_STREAM:
        return ReturnKind.SSE
    if qual is None:
        return ReturnKind.JSON
    response = _is_response_subclass(folder, qual)
    if response:
        return ReturnKind.RESPONSE
    # `Thing[int]` is no class to Hayhooks (`inspect.isclass`), so never a Response
    return ReturnKind.IMPORTED if response is None and not subscripted else ReturnKind.JSON


class _YieldFinder(OwnScopeVisitor):
    """Finds a ``yield`` of the visited function itself (not of a nested scope)."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> bool:
        self.found = True
        return False


def _is_generator_function(func: cst.FunctionDef) -> bool:
    """Whether calling ``func`` just creates a generator: a sync def whose own body yields,
    with no decorator that could make it something else."""
    return func.asynchronous is None and not func.decorators and _own_body_yields(func)


def _own_body_yields(func: cst.FunctionDef) -> bool:
    finder = _YieldFinder()
    func.body.visit(finder)
    return finder.found


def _docstring(func: cst.FunctionDef) -> docstring_parser.Docstring:
    text = func.get_docstring(clean=True) or ""
    return docstring_parser.parse(text)


# Decorators that make a run method no instance method (README, Deliberate differences); a
# ``@property`` one was served as a route that called the property's value.
_NOT_INSTANCE_METHOD = {
    "builtins.staticmethod": "@staticmethod",
    "builtins.classmethod": "@classmethod",
    "builtins.property": "@property",
    "functools.cached_property": "@cached_property",
}


def _not_an_instance_method(
    scope: ModuleScope, func: cst.FunctionDef
) -> tuple[cst.Decorator, str] | None:
    """The decorator that makes ``func`` no instance method, and how it is written."""
    for decorator in func.decorators:
        word = _NOT_INSTANCE_METHOD.get(qualname_of(scope, decorator.decorator) or "")
        if word is not None:
            return decorator, word
    return None


def _method(
    folder: _Folder,
    home: _Module,
    func: cst.FunctionDef,
    owner: ClassScope,
    documented: cst.FunctionDef,
) -> Method:
    """``func``, defined in the class ``owner`` of the folder's module ``home``; ``documented``
    is where its docstring comes from (``func`` itself, or the method it overrides)."""
    source, scope = home.source, home.scope
    doc = _docstring(documented)
    # Annotations Python evaluates where the method is defined see the class body's names;
    # postponed ones are evaluated in the module (Hayhooks: inspect.signature(eval_str=True)).
    annotation_scope = None if scope.future_annotations else owner
    param_docs = {p.arg_name: p.description for p in doc.params}
    params: list[Param] = []
    wants_headers = False
    p = func.params
    decorated = _not_an_instance_method(scope, func)
    if decorated is not None:  # reported alone: its parameters are no request's to read
        decorator, word = decorated
        source.report(
            decorator,
            f"'{func.name.value}' must be an instance method taking 'self' first, not a {word}",
        )
        return Method(func.name.value, func.asynchronous is not None, (), None, None, None, None)
    if isinstance(p.star_arg, cst.Param):
        # Hayhooks makes it a required field and passes it by keyword, which Python refuses:
        # every request would fail with a 500.
        source.report(
            p.star_arg,
            f"'{func.name.value}' takes *{p.star_arg.name.value}: a request body fills "
            "parameters by name, never positionally; declare each one",
        )
    positional = [*p.posonly_params, *p.params]
    if not positional or positional[0].name.value != "self":
        source.report(
            func.name, f"'{func.name.value}' must be an instance method taking 'self' first"
        )
    # The first parameter is bound to the instance whatever its name (and may be
    # positional-only): never a request field, so never reported as one.
    positional = positional[1:]
    posonly = {id(param) for param in p.posonly_params}
    for param in positional:
        if id(param) in posonly:
            source.report(param, "positional-only parameters cannot be filled from a request body")
    ordered = [
        (param, ParamKind.POSITIONAL_OR_KEYWORD) for param in positional if id(param) not in posonly
    ]
    ordered += [(param, ParamKind.KEYWORD_ONLY) for param in p.kwonly_params]
    if isinstance(p.star_kwarg, cst.Param):
        # As in Hayhooks: a required field of that name, whose value the method receives
        # under that key (``run_api(kwargs=...)`` puts ``{"kwargs": ...}`` in ``**kwargs``).
        ordered.append((p.star_kwarg, ParamKind.VAR_KEYWORD))
    for param, kind in ordered:
        name = param.name.value
        if param.annotation is None:
            source.report(
                param, f"parameter '{name}' of '{func.name.value}' has no type annotation"
            )
            continue
        annotation, problems = resolve_expr(
            scope, param.annotation.annotation, annotation=True, class_scope=annotation_scope
        )
        _report(source, problems)
        if (
            name == "headers"
            and kind is not ParamKind.VAR_KEYWORD
            and _wants_headers(folder, source, scope, func)
        ):
            wants_headers = True
            continue
        refused = _field_name_problem(name)
        if refused is not None:
            source.report(param, f"parameter '{name}' of '{func.name.value}' {refused}")
            continue
        default: Expr | None = None
        from_signature = False
        if param.default is not None:
            default, from_signature, problems = resolve_default(scope, param.default, owner)
            _report(source, problems)
        description = param_docs.get(name) or f"Parameter '{name}'"
        params.append(Param(name, kind, annotation, default, description, from_signature))
    returns: Expr | None = None
    return_kind: ReturnKind | None = None
    if func.returns is None:
        source.report(
            func.name,
            f"'{func.name.value}' has no return annotation: the response is built from it "
            "(annotate it, e.g. '-> dict')",
        )
    else:
        returns, problems = resolve_expr(
            scope, func.returns.annotation, annotation=True, class_scope=annotation_scope
        )
        _report(source, problems)
        head, subscripted = _annotation_head(scope, func.returns.annotation)
        return_kind = _return_kind(folder, head, subscripted)
        named = _named_types(folder, scope, func.returns.annotation)
        _check_iterator(source, func, head, named)
        if return_kind is ReturnKind.JSON:
            _check_response_inside(folder, source, func, named)
        _warn_if_event_source(source, func, folder, head)
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


# BaseModel members pydantic refuses as field names (2.x: "conflicts with member", or the
# model's own configuration); other members (``json``, ``copy``) it only warns about.
_PYDANTIC_MEMBERS = frozenset(
    {
        "model_config",
        "model_dump",
        "model_dump_json",
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
    }
)


def _field_name_problem(name: str) -> str | None:
    """Why pydantic refuses ``name`` as a request model field (Hayhooks' model too: it then
    fails to load the pipeline), or None."""
    if name.startswith("_"):
        return "cannot be a request field: pydantic refuses field names starting with '_'"
    if name in _PYDANTIC_MEMBERS:
        return f"cannot be a request field: pydantic's BaseModel.{name} has that name"
    return None


def _wants_headers(
    folder: _Folder, source: _File, scope: ModuleScope, func: cst.FunctionDef
) -> bool:
    """The Hayhooks 2.1.0 opt-in: a parameter ``headers: Headers | None = None``.

    As Hayhooks reads it: the annotation evaluated (a string too), so ``Optional[Headers]``,
    ``Union[None, Headers]`` and ``"Headers | None"`` are the same opt-in. Any other
    declaration of a ``Headers`` parameter named ``headers`` is refused, as Hayhooks refuses
    to load it.
    """
    kinds = [(p, False) for p in func.params.params] + [
        (p, True) for p in func.params.kwonly_params
    ]
    for param, _ in kinds:
        if param.name.value != "headers" or param.annotation is None:
            continue
        members = _union_members(scope, param.annotation.annotation)
        member_kinds = {_member_kind(folder, scope, m) for m in members or []}
        if "Headers" not in member_kinds:
            return False
        is_optional = member_kinds == {"Headers", "None"}
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


_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
_UNION = frozenset({"typing.Union", "typing_extensions.Union"})


def _union_members(scope: ModuleScope, node: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The members of the union an annotation evaluates to (one member if it is no union),
    or None for a string that is no expression."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        text = string_value(node)
        try:
            node = cst.parse_expression(text.strip()) if text is not None else node
        except cst.ParserSyntaxError:
            return None
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            return [node]
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        left = _union_members(scope, node.left)
        right = _union_members(scope, node.right)
        return None if left is None or right is None else [*left, *right]
    if isinstance(node, cst.Subscript):
        qual = qualname_of(scope, node.value)
        elements = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]
        if qual in ANNOTATED and elements:
            return _union_members(scope, elements[0])
        if qual in _OPTIONAL or qual in _UNION:
            found: list[cst.BaseExpression] = [cst.Name("None")] if qual in _OPTIONAL else []
            for element in elements:
                members = _union_members(scope, element)
                if members is None:
                    return None
                found.extend(members)
            return found
    return [node]


def _member_kind(folder: _Folder, scope: ModuleScope, node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name) and node.value == "None":
        return "None"
    qual = qualname_of(scope, node)
    return "Headers" if qual is not None and _origin(folder, qual) in HEADERS else "other"


def _origin(folder: _Folder, qual: str) -> str:
    """Where a name of the pipeline folder comes from: ``.types.Headers``, when ``types.py``
    imports it, is ``starlette.datastructures.Headers``. Names the folder defines, or cannot
    read, stay as they are."""
    seen: set[str] = set()
    while qual.startswith(".") and qual not in seen:
        seen.add(qual)
        module_name, _, name = qual.rpartition(".")
        module = folder.module(module_name or ".")
        if module is None or name in module.scope.classes or name not in module.scope.bindings:
            return qual
        found = qualname_of(module.scope, cst.Name(name))
        if found is None:
            return qual
        qual = found
    return qual


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
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class _PythonReading:
    """A module as Python reads it: its tree when Python's parser takes it (and its
    compiler does not give up on its depth), and what the parser or compiler refuses."""

    tree: ast.Module | None
    problem: Diagnostic | None


# Each module is read so by the parse (libcst's guard), the start-up import walk and the
# compile check, in that order and close together: a small cache serves all three.
@functools.lru_cache(maxsize=64)
def _python_reading(path: str, content: bytes) -> _PythonReading:
    """Parse, then compile, ``content``; none of its code runs. The compiler refuses code
    libcst accepts (``return`` outside a function, a repeated parameter, ``await`` in a plain
    ``def``, syntax newer than this Python)."""
    limit = sys.getrecursionlimit()
    tree: ast.Module | None = None
    try:
        # The interpreter that imports the module compiles it under the default recursion
        # limit, which bounds how deep its compiler goes; the CLI runs under a higher one.
        sys.setrecursionlimit(PYTHON_RECURSION_LIMIT)
        # SyntaxWarning ("\\d" and the like) is not ours
        with warnings.catch_warnings(action="ignore"):
            tree = ast.parse(content, path)
            compile(tree, path, "exec", dont_inherit=True)
    except SyntaxError as err:
        return _PythonReading(tree, _syntax_error(path, err))
    except (RecursionError, MemoryError):
        return _PythonReading(None, Diagnostic(path, 1, 1, TOO_DEEP_TO_COMPILE))
    except ValueError as err:  # null bytes
        return _PythonReading(None, Diagnostic(path, 1, 1, f"syntax error: {err}"))
    finally:
        sys.setrecursionlimit(limit)
    return _PythonReading(tree, None)


PYTHON_RECURSION_LIMIT = 1000  # CPython's default


def _imported_modules(scope: ModuleScope) -> frozenset[str]:
    """The pipeline folder's modules ``scope`` imports (".helper", ".sub.util"), and their
    packages: ``from .helper import x`` and ``from . import helper`` both import ".helper"."""
    found: set[str] = set()
    for binding in scope.bindings.values():
        if binding.module.startswith("."):
            names = [] if binding.name is None else [binding.name]
            found |= _with_packages(binding.module, names)
    return frozenset(found)


def _with_packages(module: str, names: list[str]) -> set[str]:
    """``module`` (".sub.util"), its packages (".sub"), and ``module.<name>`` for each of
    ``names``, which may be submodules (``from . import helper`` imports ".helper")."""
    found: set[str] = set()
    for name in [module, *(module.rstrip(".") + "." + n for n in names)]:
        parts = [part for part in name.split(".") if part]
        found.update("." + ".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return found


def _module_name(relpath: str) -> str:
    """``helper.py`` -> ".helper", ``sub/util.py`` -> ".sub.util", ``sub/__init__.py`` -> ".sub"."""
    return "." + relpath.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


@dataclass
class _Imports:
    """What a module imports when it runs (imports outside any function body)."""

    folder: set[str] = field(default_factory=set)  # the folder's modules (".helper")
    above: list[ast.ImportFrom] = field(default_factory=list)  # relative, above the folder
    packages: dict[str, ast.stmt] = field(default_factory=dict)  # absolute: top-level name


def _module_level_imports(tree: ast.Module, package: tuple[str, ...]) -> _Imports:
    """A module's imports at run time, relative ones resolved against its package
    (``package``: its parts below the folder)."""
    out = _Imports()
    found, above = out.folder, out.above
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.If) and names_type_checking(ast.unparse(node.test)):
            pending.extend(node.orelse)  # the body never runs
            continue
        pending.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.packages.setdefault(alias.name.split(".")[0], node)
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.packages.setdefault(node.module.split(".")[0], node)
            continue
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        module = relative_module(node.level, node.module, package)
        if module is None:
            above.append(node)
        else:
            found |= _with_packages(module, [alias.name for alias in node.names])
    return out


@dataclass(frozen=True)
class _StartUp:
    """The folder's modules that importing the wrapper runs, and what is wrong in them that
    Python only finds when it runs them."""

    modules: frozenset[str]
    problems: tuple[Diagnostic, ...]
    # top-level packages those modules import, each with where (path, line, column)
    packages: dict[str, tuple[str, int, int]]


def _start_up_imports(pipeline: PipelineSource, imported: frozenset[str]) -> _StartUp:
    """``imported`` (what the wrapper imports) and, transitively, what those modules import.

    A relative import above the pipeline folder in one of them is an error: Hayhooks loads
    the folder as a package of its own, where it fails, while the service would import a
    sibling pipeline's module. (The wrapper's own imports are checked when it is read.)"""
    files = {
        _module_name(relpath): (relpath, content)
        for relpath, content in pipeline.files
        if relpath.endswith(".py") and relpath != WRAPPER_FILE
    }
    contents = dict(pipeline.files)
    paths = frozenset(contents)

    def names_of(relpath: str) -> frozenset[str] | None:
        reading = _python_reading(f"{pipeline.folder}/{relpath}", contents[relpath])
        if reading.tree is None or reading.problem is not None:
            return None  # refused on its own (_check_compiles)
        return top_level_names(reading.tree, contents[relpath].decode("utf-8", "replace"))

    problems: list[Diagnostic] = []

    def check_imports(relpath: str, tree: ast.Module) -> None:
        package = tuple(relpath.split("/")[:-1])
        imports = unconditional_relative_imports(
            tree, lambda node: relative_module(node.level, node.module, package)
        )
        problems.extend(
            Diagnostic(f"{pipeline.folder}/{relpath}", missing.line, missing.col, missing.message)
            for missing in missing_imports(imports, paths, names_of)
        )

    if WRAPPER_FILE in contents:
        wrapper = _python_reading(f"{pipeline.folder}/{WRAPPER_FILE}", contents[WRAPPER_FILE])
        if wrapper.tree is not None:
            check_imports(WRAPPER_FILE, wrapper.tree)
    seen = set(imported)
    pending = sorted(imported)
    packages: dict[str, tuple[str, int, int]] = {}
    while pending:
        entry = files.get(pending.pop())
        if entry is None:
            continue
        relpath, content = entry
        path = f"{pipeline.folder}/{relpath}"
        tree = _python_reading(path, content).tree
        if tree is None:
            continue  # refused on its own (_check_compiles)
        check_imports(relpath, tree)
        found = _module_level_imports(tree, tuple(relpath.split("/")[:-1]))
        problems.extend(
            Diagnostic(path, n.lineno, n.col_offset + 1, ABOVE_FOLDER) for n in found.above
        )
        for top, node in found.packages.items():
            packages.setdefault(top, (path, node.lineno, node.col_offset + 1))
        for name in sorted(found.folder - seen):
            seen.add(name)
            pending.append(name)
    return _StartUp(frozenset(seen), tuple(problems), packages)


def _check_compiles(
    pipeline: PipelineSource,
    relpath: str,
    content: bytes,
    out: _Rewritten,
    diagnostics: list[Diagnostic],
    imported: frozenset[str],
) -> None:
    """The wrapper, package ``__init__.py`` files and the modules the wrapper imports, directly
    or through other modules of the folder, run at start-up: a module Python cannot compile
    there is an error. Any other module runs only when something imports it, which a static
    reader cannot always tell (an import inside a function; Hayhooks serves a folder holding
    a broken module nobody imports): a warning."""
    path = f"{pipeline.folder}/{relpath}"
    if any(d.path == path for d in diagnostics):
        return  # already refused (libcst)
    problem = _python_reading(path, content).problem
    if problem is None:
        return
    runs = relpath == WRAPPER_FILE or relpath.rsplit("/", 1)[-1] == "__init__.py"
    if runs or _module_name(relpath) in imported:
        diagnostics.append(problem)
        return
    message = f"{problem.message} (importing this module fails at start-up)"
    out.warnings.append(Diagnostic(path, problem.line, problem.col, message, "warning"))


def _rewrite_files(
    pipeline: PipelineSource,
    wrapper_module: cst.Module | None,
    diagnostics: list[Diagnostic],
    imported: frozenset[str] = frozenset(),
) -> _Rewritten:
    out = _Rewritten()
    files = out.files
    for relpath, content in pipeline.files:
        if relpath.endswith(".py") and (
            b"import haystack" in content or b"from haystack" in content
        ):
            out.uses_haystack = True
        if relpath.endswith(".py"):
            _check_compiles(pipeline, relpath, content, out, diagnostics, imported)
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


def parse_pipeline(
    pipeline: PipelineSource, package: str = "app"
) -> tuple[Pipeline | None, list[Diagnostic]]:
    """``pipeline``'s model, or its problems; ``package`` is the service's package name."""
    try:
        return _read_pipeline(pipeline, package)
    except RecursionError:  # an expression Python accepts nested deeper than the readers go
        return None, [Diagnostic(f"{pipeline.folder}/{WRAPPER_FILE}", 1, 1, TOO_DEEP)]


def _read_pipeline(
    pipeline: PipelineSource, package: str
) -> tuple[Pipeline | None, list[Diagnostic]]:
    path = f"{pipeline.folder}/{WRAPPER_FILE}"
    content = pipeline.read(WRAPPER_FILE) or b""
    module = _parse_module(path, content)
    if isinstance(module, Diagnostic):
        return None, [module]
    source = _File(
        path, module, may_yield=b"yield" in content, may_assign_run=b"self.run_" in content
    )
    scope = collect_scope(module, ".pipeline_wrapper")
    source.problems.extend(scope.problems)
    cls = scope.classes.get("PipelineWrapper")
    diagnostics: list[Diagnostic] = []
    if cls is None:
        return None, [
            Diagnostic(path, 1, 1, "no 'PipelineWrapper' class is defined in this module")
        ]
    folder = _Folder(pipeline, _Module(source, scope))
    members = _members(folder, folder.modules()[0], cls, {(scope.module, "PipelineWrapper")})
    methods = members.methods
    implemented = tuple(m for m in KNOWN_METHODS if m in methods)
    if not folder.failed:
        _check_served(pipeline.name, source, cls, members)
    run = None
    run_found = methods.get("run_api_async") or methods.get("run_api")
    if run_found is not None:
        run_func, run_home = run_found
        name = run_func.name.value
        owner = members.owners[name]
        run = _method(
            folder,
            run_home,
            run_func,
            ClassScope(
                Symbol(run_home.scope.module, owner.name.value),
                class_body_names(owner, before=run_func),
            ),
            members.documented.get(name, run_func),
        )
    for name in SERVED_METHODS:
        if name in methods:
            func, home = methods[name]
            _warn_if_hayhooks_calls_it_otherwise(home.source, func)
    handlers: list[Handler] = []
    for name in (*CHAT_METHODS, *RESPONSE_METHODS, *UPLOAD_METHODS):
        if name in methods:
            func, home = methods[name]
            is_async = func.asynchronous is not None
            wants = _wants_headers(folder, home.source, home.scope, func)
            if name in _OPENAI_ITEMS:
                _warn_if_the_openai_call_fails(home.source, func, wants)
            handlers.append(Handler(name, is_async, wants))
    attrs = {name: node for name, (node, _) in members.attrs.items()}
    if "deployment_type" in members.attrs:
        node, home = members.attrs["deployment_type"]
        _check_deployment_type(home.source, node)
    a2a = attrs.get("a2a_card")
    diagnostics.extend(folder.failed)
    start_up = _start_up_imports(pipeline, _imported_modules(scope))
    diagnostics.extend(start_up.problems)
    shadowed = f"imports '{package}', which the service's own package (--package {package}) "
    shadowed += "would shadow: choose another --package"
    if package in scope.packages:
        source.report(scope.packages[package], shadowed)
    elif package in start_up.packages:
        diagnostics.append(Diagnostic(*start_up.packages[package], shadowed))
    rewritten = _rewrite_files(pipeline, module, diagnostics, start_up.modules)
    for loaded in folder.modules():
        diagnostics.extend(loaded.source.diagnostics())
    if diagnostics:
        return None, diagnostics
    warnings = sorted(
        [w for loaded in folder.modules() for w in loaded.source.warnings()] + rewritten.warnings
    )
    return (
        Pipeline(
            name=pipeline.name,
            ident=pipeline.ident,
            folder=pipeline.folder,
            run=run,
            implemented=implemented,
            handlers=tuple(handlers),
            skip_mcp=_literal_bool(attrs.get("skip_mcp")),
            skip_a2a=_literal_bool(attrs.get("skip_a2a")),
            a2a_card=cst.Module(body=[]).code_for_node(a2a) if a2a is not None else None,
            files=tuple(rewritten.files),
            hayhooks_names=tuple(sorted(rewritten.hayhooks_names)),
            runtime_names=tuple(sorted(rewritten.runtime_names)),
            uses_haystack=rewritten.uses_haystack,
            warnings=tuple(warnings),
        ),
        [],
    )


def parse(discovery: Discovery, package: str) -> Service:
    """Parse every discovered pipeline; raise ``BuildError`` with all problems of all files."""
    pipelines: list[Pipeline] = []
    diagnostics: list[Diagnostic] = list(discovery.errors)
    for source in discovery.pipelines:
        pipeline, problems = parse_pipeline(source, package)
        diagnostics.extend(problems)
        if pipeline is not None:
            pipelines.append(pipeline)
    if diagnostics:
        raise BuildError(diagnostics)
    return Service(tuple(pipelines), package, discovery.requirements)
