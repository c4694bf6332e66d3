"""The parsed model of a wrappers folder: plain, frozen data that the render stage reads.

Expressions copied from wrapper code (annotations, defaults) are kept as a code template
plus the symbols it references, so the renderer can import each symbol under a local
name that cannot collide with anything else in the generated module.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hayhooks_gen.diagnostics import Diagnostic

# Placeholder for the i-th reference inside an ``Expr.template``. A NUL byte cannot occur
# in Python source outside a string literal, so the marker is unambiguous.
REF_MARK = "\x00"


def ref_marker(index: int) -> str:
    return f"{REF_MARK}{index}{REF_MARK}"


@dataclass(frozen=True, order=True)
class Symbol:
    """Something importable: ``from module import name``."""

    module: str
    name: str

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Ref:
    """A reference inside an expression: an imported symbol followed by attribute accesses."""

    symbol: Symbol
    attrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expr:
    """An expression from wrapper code, rewritten so every non-builtin name is a ``Ref``."""

    template: str
    refs: tuple[Ref, ...] = ()
    source: str = ""  # the original text, for inspect and messages


class ReturnKind(enum.Enum):
    JSON = "json"
    RESPONSE = "response"  # a starlette/fastapi Response subclass: passed through untouched
    # a class from outside the pipeline folder, which the generator does not import: a
    # Response subclass or a JSON type, told apart when the route module is imported
    IMPORTED = "imported"
    STREAM = "stream"  # Generator / AsyncGenerator: text/plain chunks
    SSE = "sse"  # SSEStream: text/event-stream chunks


class ParamKind(enum.Enum):
    POSITIONAL_OR_KEYWORD = "positional_or_keyword"
    KEYWORD_ONLY = "keyword_only"
    VAR_KEYWORD = "var_keyword"  # ``**name``: one field ``name``, as in Hayhooks


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind
    annotation: Expr
    default: Expr | None
    description: str
    # The default is read from the method's signature (the value Python gave it when the
    # method was defined), not re-evaluated: it uses the class body's names or a module
    # name bound more than once.
    default_from_signature: bool = False


@dataclass(frozen=True)
class Method:
    name: str
    is_async: bool
    params: tuple[Param, ...]
    returns: Expr | None
    return_kind: ReturnKind | None
    return_description: str | None
    short_description: str | None
    wants_headers: bool = False
    # A plain (undecorated) sync generator function: calling it runs none of its body.
    is_generator: bool = False

    @property
    def requires_files(self) -> bool:
        return any(p.name == "files" for p in self.params)


RUN_METHODS = ("run_api", "run_api_async")
CHAT_METHODS = ("run_chat_completion", "run_chat_completion_async")
RESPONSE_METHODS = ("run_response", "run_response_async")
UPLOAD_METHODS = ("run_file_upload",)
KNOWN_METHODS = ("setup", *RUN_METHODS, *CHAT_METHODS, *RESPONSE_METHODS, *UPLOAD_METHODS)


@dataclass(frozen=True)
class Handler:
    """A chat, responses or file-upload method, called by the OpenAI-compatible routes."""

    name: str  # e.g. "run_chat_completion_async"
    is_async: bool
    wants_headers: bool


@dataclass(frozen=True)
class WrapperFile:
    """A file of a wrapper folder, copied into the service (Python files may be rewritten)."""

    relpath: str  # relative to the pipeline folder, POSIX separators
    content: bytes


@dataclass(frozen=True)
class Pipeline:
    name: str  # the route name, e.g. "my-pipe"
    ident: str  # a Python identifier, e.g. "my_pipe"
    folder: str  # folder path relative to the wrappers root
    run: Method | None  # run_api_async wins over run_api
    implemented: tuple[str, ...]  # which KNOWN_METHODS the class defines
    handlers: tuple[Handler, ...] = ()  # chat / responses / file upload methods
    skip_mcp: bool = False
    skip_a2a: bool = False
    a2a_card: str | None = None  # source text of the class attribute
    files: tuple[WrapperFile, ...] = ()
    hayhooks_names: tuple[str, ...] = ()  # names still imported from hayhooks after rewriting
    runtime_names: tuple[str, ...] = ()  # Hayhooks names the generated runtime provides
    uses_haystack: bool = False
    # located warnings the build prints and goes on, e.g. a base class outside the folder
    warnings: tuple[Diagnostic, ...] = ()

    def handler(self, *names: str) -> Handler | None:
        """The first of ``names`` the wrapper implements (pass the async name first)."""
        by_name = {h.name: h for h in self.handlers}
        return next((by_name[n] for n in names if n in by_name), None)

    @property
    def has_chat(self) -> bool:
        return any(m in self.implemented for m in CHAT_METHODS)

    @property
    def has_responses(self) -> bool:
        return any(m in self.implemented for m in RESPONSE_METHODS)

    @property
    def has_file_upload(self) -> bool:
        return "run_file_upload" in self.implemented


@dataclass(frozen=True)
class Service:
    pipelines: tuple[Pipeline, ...]
    package: str = "app"
    extra_requirements: tuple[str, ...] = field(default_factory=tuple)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(w for p in self.pipelines for w in p.warnings)

    @property
    def has_openai(self) -> bool:
        return any(p.has_chat or p.has_responses or p.has_file_upload for p in self.pipelines)

    @property
    def needs_hayhooks(self) -> bool:
        return any(p.hayhooks_names for p in self.pipelines)
