"""Issue 4, property-based: random wrapper signatures, same OpenAPI as Hayhooks 2.1.0.

hypothesis writes a ``pipeline_wrapper.py`` with a random ``run_api`` (or ``run_api_async``):
parameter names, types, defaults, keyword-only markers, a Google, reST or NumPy docstring, and a
return kind. For each example the real CLI builds it; then either

- the build succeeds, and the generated service's ``paths["/p/run"]`` and every component schema
  it references equal Hayhooks 2.1.0's for the same folder (durable mode), or
- the build fails with exit 2 and ``path:line:col: error:`` lines (never a crash or traceback),
  and Hayhooks refuses the folder too.

Both OpenAPI documents come from long-lived helper processes (``openapi_worker.py``), so
Hayhooks and haystack are imported once. Bounded for CI: a fixed number of examples, derandomized
(the same examples on every run), no shrinking, no example database.
"""

from __future__ import annotations

import builtins
import json
import keyword
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from support.compare import diff_values
from support.servers import clean_env

from ._helpers import assert_no_traceback, cli, error_lines

WORKER = Path(__file__).with_name("openapi_worker.py")
WORKER_TIMEOUT_S = 60.0
MAX_EXAMPLES = 40
PIPELINE = "p"
RUN_PATH = f"/{PIPELINE}/run"
REF_PREFIX = "#/components/schemas/"

# --------------------------------------------------------------------------- helper processes


class Worker:
    """One ``openapi_worker.py`` process; ``openapi(folder)`` is bounded by WORKER_TIMEOUT_S."""

    def __init__(self, mode: str, env: dict[str, str], log: Path) -> None:
        self.mode = mode
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, os.fspath(WORKER), mode],
            env=env,
            cwd=os.fspath(log.parent),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        self.log_path = log

    def _read(self, stream: TextIO) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def openapi(self, folder: Path) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"dir": os.fspath(folder)}) + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + WORKER_TIMEOUT_S
        while True:  # bounded by the deadline; each get waits at most the time left
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.mode} worker gave no answer in {WORKER_TIMEOUT_S} s")
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                tail = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.mode} worker exited:\n{tail}")
            if line.startswith("@@RESULT@@ "):
                answer: dict[str, Any] = json.loads(line[len("@@RESULT@@ ") :])
                return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


@dataclass
class Workers:
    hayhooks: Worker
    generated: Worker
    root: Path


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    root = tmp_path_factory.mktemp("properties")
    empty = root / "empty"
    empty.mkdir()
    hayhooks_env = clean_env(
        {
            "HAYHOOKS_DURABLE_MODE": "true",
            "HAYHOOKS_TRACING_ENABLED": "false",
            "HAYHOOKS_MONITORING_ENABLED": "false",
            "HAYHOOKS_PIPELINES_DIR": os.fspath(empty),
            "XDG_CACHE_HOME": os.fspath(root / ".cache"),
        }
    )
    hayhooks = Worker("hayhooks", hayhooks_env, root / "hayhooks.log")
    generated = Worker("generated", clean_env(), root / "generated.log")
    try:
        yield Workers(hayhooks, generated, root)
    finally:
        hayhooks.close()
        generated.close()


# --------------------------------------------------------------------------- wrapper sources

# Names a generated route module binds or a model class body refers to; a field with such a
# name shadows them inside the model class (see test_shadowing_names_* below).
SHADOWING = sorted(
    {
        *dir(builtins),
        *("Field", "BaseModel", "Any", "Annotated", "Literal", "Optional", "Out"),
        *("Generator", "AsyncGenerator", "FileResponse", "PlainTextResponse", "UploadFile"),
        *("APIRouter", "HTTPException", "PipelineWrapper", "router", "wrapper", "run_req"),
        *("FastAPI", "Depends", "Sequence", "register", "run_sync", "app", "func"),
    }
)
RESERVED = {"self", "files", "headers", *dir(BaseModel)}


def _usable_name(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not keyword.issoftkeyword(name)
        and name not in RESERVED
        and name not in SHADOWING
        and not name.startswith(("_", "model_"))
    )


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True).filter(_usable_name)

# Characters that stress quoting and escaping in generated code, and non-ASCII text.
TEXT_CHARS = "abcXYZ 09_-'\"\\\n\té€😀{}%"
SHORT_TEXT = st.text(alphabet=TEXT_CHARS, max_size=6)
DOC_WORD = st.text(alphabet="abcdefXYZé€漢'\"(){}%,.-0123", min_size=1, max_size=8)
DOC_TEXT = (
    st.lists(DOC_WORD, min_size=1, max_size=4)
    .map(" ".join)
    .filter(lambda t: '"""' not in t and not t.endswith('"') and ":" not in t)
)


@dataclass(frozen=True)
class Kind:
    """A parameter type: its annotation and a strategy for a default value of that type."""

    annotation: str
    default: st.SearchStrategy[Any]


BASE_KINDS = [
    Kind("str", SHORT_TEXT),
    Kind("int", st.integers(-(10**12), 10**12)),
    Kind("float", st.floats(allow_nan=False, allow_infinity=False)),
    Kind("bool", st.booleans()),
    Kind("list[str]", st.lists(SHORT_TEXT, max_size=2)),
    Kind("dict[str, int]", st.dictionaries(SHORT_TEXT, st.integers(-5, 5), max_size=2)),
    Kind('Literal["a", "b"]', st.sampled_from(["a", "b"])),
    Kind("Literal[1, 2, 3]", st.sampled_from([1, 2, 3])),
]


@st.composite
def kinds(draw: st.DrawFn) -> Kind:
    base = draw(st.sampled_from(BASE_KINDS))
    wrap = draw(st.sampled_from(["plain", "plain", "optional", "union_none"]))
    if wrap == "plain":
        return base
    annotation = (
        f"Optional[{base.annotation}]" if wrap == "optional" else f"{base.annotation} | None"
    )
    return Kind(annotation, st.one_of(st.none(), base.default))


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str
    default: str | None  # Python source of the default, or None when required
    description: str | None


@dataclass(frozen=True)
class Spec:
    params: tuple[Param, ...]
    kwonly_from: int | None  # index of the first keyword-only parameter
    is_async: bool
    returns: str  # key of RETURNS
    doc_style: str  # none, google, rest, numpy
    summary: str | None
    returns_doc: str | None

    def source(self) -> str:
        return render(self)


# return kind -> (annotation, sync body, async body)
RETURNS: dict[str, tuple[str, str, str]] = {
    "dict": ("dict", "return {}", "return {}"),
    "str": ("str", 'return "x"', 'return "x"'),
    "list_int": ("list[int]", "return [1]", "return [1]"),
    "model": ("Out", "return Out()", "return Out()"),
    "generator": (
        "Generator[str, None, None]",
        'yield "x"',
        "async def chunks() -> AsyncGenerator[str, None]:\n"
        '            yield "x"\n\n'
        "        return chunks()",
    ),
    "file": ("FileResponse", "return FileResponse(__file__)", "return FileResponse(__file__)"),
    "plain_text": (
        "PlainTextResponse",
        'return PlainTextResponse("x")',
        'return PlainTextResponse("x")',
    ),
}
ASYNC_ANNOTATIONS = {"generator": "AsyncGenerator[str, None]"}

HEADER = """\
from collections.abc import AsyncGenerator, Generator
from typing import Literal, Optional

from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel

from hayhooks import BasePipelineWrapper


class Out(BaseModel):
    value: str = ""
    count: int = 0

"""


def _docstring(spec: Spec) -> list[str]:
    if spec.doc_style == "none" or spec.summary is None:
        return []
    described = [p for p in spec.params if p.description]
    lines = [spec.summary, ""]
    if spec.doc_style == "google":
        if described:
            lines += ["Args:", *[f"    {p.name}: {p.description}" for p in described], ""]
        if spec.returns_doc:
            lines += ["Returns:", f"    {spec.returns_doc}", ""]
    elif spec.doc_style == "rest":
        lines += [f":param {p.name}: {p.description}" for p in described]
        if spec.returns_doc:
            lines.append(f":returns: {spec.returns_doc}")
    elif spec.doc_style == "numpy":
        if described:
            lines += ["Parameters", "----------"]
            for p in described:
                lines += [f"{p.name} : {p.annotation}", f"    {p.description}"]
            lines.append("")
        if spec.returns_doc:
            lines += ["Returns", "-------", "object", f"    {spec.returns_doc}"]
    while lines and not lines[-1]:
        lines.pop()
    body = "\n".join(f"        {ln}" if ln else "" for ln in lines)
    return [f'        """{body.lstrip()}\n        """']


def render(spec: Spec) -> str:
    params = ["self"]
    for index, p in enumerate(spec.params):
        if spec.kwonly_from == index:
            params.append("*")
        params.append(f"{p.name}: {p.annotation}" + (f" = {p.default}" if p.default else ""))
    annotation, sync_body, async_body = RETURNS[spec.returns]
    if spec.is_async:
        annotation = ASYNC_ANNOTATIONS.get(spec.returns, annotation)
    signature = ", ".join(params)
    name = "run_api_async" if spec.is_async else "run_api"
    prefix = "async def" if spec.is_async else "def"
    lines = [
        "class PipelineWrapper(BasePipelineWrapper):",
        "    def setup(self) -> None:",
        "        self.pipeline = None",
        "",
        f"    {prefix} {name}({signature}) -> {annotation}:",
        *_docstring(spec),
        f"        {async_body if spec.is_async else sync_body}",
    ]
    return HEADER + "\n" + "\n".join(lines) + "\n"


@st.composite
def specs(draw: st.DrawFn, names: st.SearchStrategy[str] = NAMES) -> Spec:
    count = draw(st.integers(0, 4))
    chosen = draw(st.lists(names, min_size=count, max_size=count, unique=True))
    drafted: list[tuple[Param, bool]] = []
    for name in chosen:
        kind = draw(kinds())
        has_default = draw(st.booleans())
        default = repr(draw(kind.default)) if has_default else None
        description = draw(st.one_of(st.none(), DOC_TEXT))
        drafted.append((Param(name, kind.annotation, default, description), has_default))
    kwonly_from = draw(st.one_of(st.none(), st.integers(0, max(count - 1, 0))))
    if count == 0:
        kwonly_from = None
    # Positional parameters: the required ones first, as Python demands.
    cut = count if kwonly_from is None else kwonly_from
    positional = sorted(drafted[:cut], key=lambda pair: pair[1])
    ordered = tuple(p for p, _ in positional + drafted[cut:])
    returns = draw(st.sampled_from(sorted(RETURNS)))
    return Spec(
        params=ordered,
        kwonly_from=kwonly_from,
        is_async=draw(st.booleans()),
        returns=returns,
        doc_style=draw(st.sampled_from(["none", "google", "rest", "numpy"])),
        summary=draw(DOC_TEXT),
        returns_doc=draw(st.one_of(st.none(), DOC_TEXT)),
    )


# --------------------------------------------------------------------------- the property


def referenced_components(openapi: dict[str, Any], node: Any) -> dict[str, Any]:
    """Every component schema reachable from ``node`` through ``$ref``s, by name."""
    schemas = openapi.get("components", {}).get("schemas", {})
    found: dict[str, Any] = {}
    pending = [node]
    for _ in range(10_000):  # bounded walk
        if not pending:
            break
        current = pending.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF_PREFIX):
                name = ref[len(REF_PREFIX) :]
                if name not in found:
                    found[name] = schemas.get(name, "<missing component>")
                    pending.append(found[name])
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return found


_counter = iter(range(1_000_000))


def check_example(workers: Workers, source: str, *, in_given: bool = False) -> None:
    folder = workers.root / f"ex{next(_counter)}"
    wrappers = folder / "wrappers"
    (wrappers / PIPELINE).mkdir(parents=True)
    (wrappers / PIPELINE / "pipeline_wrapper.py").write_text(source, encoding="utf-8")
    out = folder / "out"
    try:
        run = cli("build", "wrappers", "-o", "out", cwd=folder)
        context = f"--- wrapper ---\n{source}\n--- build ---\n{run}"
        assert run.code in (0, 2), f"build crashed\n{context}"
        assert_no_traceback(run)
        oracle = workers.hayhooks.openapi(wrappers)
        if in_given:
            event(f"build exit {run.code}; Hayhooks {'loads' if oracle['ok'] else 'refuses'}")
        if run.code == 2:
            located = error_lines(run.stderr)
            assert located, f"exit 2 without a located error\n{context}"
            assert all(m["path"].startswith("wrappers/p/") for m in located), context
            assert not oracle["ok"], f"generator refused a wrapper Hayhooks serves\n{context}"
            return
        assert oracle["ok"], f"Hayhooks refused what the generator built: {oracle}\n{context}"
        generated = workers.generated.openapi(out)
        assert generated["ok"], f"generated app does not import: {generated}\n{context}"
        oa_h, oa_g = oracle["openapi"], generated["openapi"]
        path_h = oa_h["paths"].get(RUN_PATH)
        path_g = oa_g["paths"].get(RUN_PATH)
        assert path_h is not None, f"Hayhooks has no {RUN_PATH}\n{context}"
        diffs = diff_values(path_h, path_g, f"paths[{RUN_PATH}]")
        comps_h = referenced_components(oa_h, path_h)
        comps_g = referenced_components(oa_g, path_g)
        diffs += diff_values(comps_h, comps_g, "components.schemas")
        assert not diffs, "OpenAPI differs:\n  " + "\n  ".join(diffs) + f"\n{context}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


PROPERTY_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure message has the source
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY_SETTINGS
@given(spec=specs())
def test_openapi_equals_hayhooks_or_located_error(workers: Workers, spec: Spec) -> None:
    check_example(workers, spec.source(), in_given=True)


# --------------------------------------------------------------------------- never a crash

MUTATION_EXAMPLES = 30
TOKENS = [
    *("(", ")", "[", "]", "{", "}", ":", ",", "*", "**", "/", "=", "->", "|", "@", "#", "..."),
    *("lambda ", "async ", "await ", "yield ", "def ", "class ", "None", "return ", "import "),
    *("'", '"', '"""', "\\", "\t", "\n", "    ", "\x00", "é", "\ufeff", "f'{", "\r"),
]


@st.composite
def mutated_sources(draw: st.DrawFn) -> bytes:
    """A valid random wrapper with 1-3 edits: a span deleted, a token or a bad byte inserted."""
    data = draw(specs()).source().encode("utf-8")
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["delete", "insert", "insert", "bad_byte", "dup_line"]))
        if how == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 20)) :]
        elif how == "insert":
            data = data[:at] + draw(st.sampled_from(TOKENS)).encode() + data[at:]
        elif how == "bad_byte":
            data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x80"])) + data[at:]
        else:
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            data = b"\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    return data


@settings(PROPERTY_SETTINGS, max_examples=MUTATION_EXAMPLES)
@given(source=mutated_sources())
def test_mutated_sources_never_crash_the_generator(workers: Workers, source: bytes) -> None:
    """Exit 0, or exit 2 with located errors inside the file; never 3, never a traceback."""
    folder = workers.root / f"mut{next(_counter)}"
    wrapper_file = folder / "wrappers" / PIPELINE / "pipeline_wrapper.py"
    wrapper_file.parent.mkdir(parents=True)
    wrapper_file.write_bytes(source)
    try:
        run = cli("build", "wrappers", "-o", "out", cwd=folder)
        context = f"--- wrapper ---\n{source!r}\n--- build ---\n{run}"
        event(f"build exit {run.code}")
        assert run.code in (0, 2), f"build crashed\n{context}"
        assert_no_traceback(run)
        if run.code == 2:
            lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
            located = error_lines(run.stderr)
            assert located and len(located) == len(lines), f"unlocated error\n{context}"
            last_line = source.count(b"\n") + 1
            for m in located:
                assert m["path"] == "wrappers/p/pipeline_wrapper.py", context
                assert 1 <= int(m["line"]) <= last_line, f"line out of range\n{context}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- known failures

SHADOWING_EXAMPLES = {
    "field_named_Field": 'Field: str = "a", top_k: int = 3',
    "field_named_int_then_int_field": 'int: str = "b", top_k: int = 3',
    "field_named_str_then_str_field": 'str: int = 1, query: str = "q"',
    "field_named_Literal": 'Literal: int = 1, mode: Literal["a", "b"] = "a"',
    "field_named_Optional": "Optional: int = 1, flag: Optional[bool] = None",
}


@pytest.mark.parametrize("signature", SHADOWING_EXAMPLES.values(), ids=SHADOWING_EXAMPLES.keys())
def test_shadowing_names_build_a_service_that_imports(workers: Workers, signature: str) -> None:
    source = HEADER + (
        "\nclass PipelineWrapper(BasePipelineWrapper):\n"
        "    def setup(self) -> None:\n"
        "        self.pipeline = None\n\n"
        f"    def run_api(self, {signature}) -> dict:\n"
        "        return {}\n"
    )
    check_example(workers, source)


def test_strategy_renders_valid_python() -> None:
    """The generator of examples itself: every rendered source compiles (a few fixed specs)."""
    param = Param("q", "Optional[str]", repr("a\"b'\\\n"), 'd "x" é')
    for returns in RETURNS:
        for is_async in (False, True):
            for style in ("none", "google", "rest", "numpy"):
                spec = Spec((param,), 0, is_async, returns, style, "Sum 'x'.", "Ret.")
                compile(spec.source(), "pipeline_wrapper.py", "exec")
    assert re.search(r"def run_api_async\(self, \*, q: Optional\[str\]", spec.source())
