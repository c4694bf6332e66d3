"""pytest fixtures that build golden cases and start servers once per wrappers folder."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from .servers import (
    ServerStartError,
    build_service,
    golden_cases,
    serve_generated,
    serve_hayhooks,
    wrappers_dir,
)

HTTP_TIMEOUT_S = 30.0

# Cases on which Hayhooks 2.1.0 itself may fail to start (a documented Hayhooks bug that the
# generator fixes, DESIGN.md section 7). The parity tests of such a case are skipped with the
# Hayhooks error as the reason; if Hayhooks starts, the case is compared like any other.
HAYHOOKS_MAY_FAIL = {
    "sse_annotation": "Hayhooks 2.1.0 cannot build a response model for -> SSEStream",
    "string_annotations": "Hayhooks 2.1.0 cannot resolve string annotations",
}

# Pipelines of a case that Hayhooks can serve when the whole folder fails. Parity also runs on
# ``<case>:<pipeline>,...``: a copy of the folder holding only these pipelines, for both sides.
SUBSETS = {
    "string_annotations": ["quoted"],
}

# Text replacements that make a case loadable by Hayhooks 2.1.0 without changing what the
# wrapper means. Parity also runs on ``<case>+patched``: Hayhooks serves a patched copy, the
# generated service is built from the original folder (it must not need the patch).
ORACLE_PATCHES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "sse_annotation": {
        # Hayhooks builds a pydantic model from the return annotation; SSEStream has none.
        "countdown/pipeline_wrapper.py": [("-> SSEStream:", "-> Generator:  # oracle patch")],
    },
    "string_annotations": {
        # Hayhooks evaluates annotations at load time, so a TYPE_CHECKING-only import fails.
        "future_ann/pipeline_wrapper.py": [("if TYPE_CHECKING:", "if True:  # oracle patch")],
    },
}
PATCHED_SUFFIX = "+patched"

BuildFn = Callable[[str], Path]
WrappersFn = Callable[[str], Path]


def parity_cases() -> list[str]:
    cases = golden_cases(include_errors=False)
    subsets = [f"{case}:{','.join(names)}" for case, names in SUBSETS.items() if case in cases]
    patched = [f"{case}{PATCHED_SUFFIX}" for case in ORACLE_PATCHES if case in cases]
    return sorted([*cases, *subsets, *patched])


@dataclass
class Server:
    url: str
    client: httpx.Client
    _openapi: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def openapi(self) -> dict[str, Any]:
        if self._openapi is None:
            r = self.client.get("/openapi.json")
            r.raise_for_status()
            self._openapi = r.json()
        return self._openapi


@dataclass
class ServerPair:
    case: str
    wrappers: Path
    out: Path
    hayhooks: Server
    generated: Server


@pytest.fixture(scope="session")
def case_wrappers(tmp_path_factory: pytest.TempPathFactory) -> WrappersFn:
    """``case_wrappers("name")`` is ``golden/name/wrappers``; ``"name:a,b"`` a copy with a and b."""
    cache: dict[str, Path] = {}

    def get(case_id: str) -> Path:
        case_id = case_id.removesuffix(PATCHED_SUFFIX)
        case, _, subset = case_id.partition(":")
        source = wrappers_dir(case)
        if not source.is_dir():
            pytest.skip(f"golden case {case!r} does not exist")
        if not subset:
            return source
        if case_id not in cache:
            target = tmp_path_factory.mktemp(f"subset-{case}") / "wrappers"
            target.mkdir()
            for name in subset.split(","):
                shutil.copytree(
                    source / name, target / name, ignore=shutil.ignore_patterns("__pycache__")
                )
            cache[case_id] = target
        return cache[case_id]

    return get


@pytest.fixture(scope="session")
def oracle_wrappers(
    tmp_path_factory: pytest.TempPathFactory, case_wrappers: WrappersFn
) -> WrappersFn:
    """The folder Hayhooks serves for a case id: ``case_wrappers``, or a patched copy."""
    cache: dict[str, Path] = {}

    def get(case_id: str) -> Path:
        source = case_wrappers(case_id)
        if not case_id.endswith(PATCHED_SUFFIX):
            return source
        if case_id not in cache:
            case = case_id.removesuffix(PATCHED_SUFFIX).partition(":")[0]
            target = tmp_path_factory.mktemp(f"patched-{case}") / "wrappers"
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            for rel, replacements in ORACLE_PATCHES[case].items():
                path = target / rel
                text = path.read_text(encoding="utf-8")
                for old, new in replacements:
                    assert old in text, f"oracle patch {old!r} not found in {rel}"
                    text = text.replace(old, new)
                path.write_text(text, encoding="utf-8")
            cache[case_id] = target
        return cache[case_id]

    return get


@pytest.fixture(scope="session")
def build_case(tmp_path_factory: pytest.TempPathFactory, case_wrappers: WrappersFn) -> BuildFn:
    """``build_case(case_id)`` builds the case's wrappers once per session; returns OUT."""
    cache: dict[str, Path | BaseException] = {}

    def build(case: str) -> Path:
        wrappers = case_wrappers(case)
        case = case.removesuffix(PATCHED_SUFFIX)
        if case not in cache:
            out = (
                tmp_path_factory.mktemp(f"svc-{case.replace(':', '-').replace(',', '-')}")
                / "service"
            )
            try:
                cache[case] = build_service(wrappers, out)
            except Exception as exc:  # AssertionError or timeout from the CLI; kept per case
                cache[case] = exc
        result = cache[case]
        if isinstance(result, BaseException):
            raise result
        return result

    return build


@contextlib.contextmanager
def client_for(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=HTTP_TIMEOUT_S, follow_redirects=False) as client:
        yield client


@contextlib.contextmanager
def running_generated(out: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    with serve_generated(out, extra_env) as url, client_for(url) as client:
        yield Server(url, client)


@contextlib.contextmanager
def running_hayhooks(
    case: str,
    wrappers: os.PathLike[str] | str,
    extra_env: dict[str, str] | None = None,
    cwd_files: dict[str, str] | None = None,
) -> Iterator[Server]:
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(serve_hayhooks(wrappers, extra_env, cwd_files))
        except ServerStartError as exc:
            if case in HAYHOOKS_MAY_FAIL:
                lines = [ln for ln in exc.stderr_tail.splitlines() if ln.strip()]
                errors = [ln for ln in lines if "Error" in ln] or lines
                pytest.skip(
                    f"{HAYHOOKS_MAY_FAIL[case]}; Hayhooks did not start: "
                    f"{errors[-1].strip() if errors else exc}"
                )
            raise
        client = stack.enter_context(client_for(url))
        yield Server(url, client)


@pytest.fixture(scope="module")
def server_pair(
    request: pytest.FixtureRequest,
    build_case: BuildFn,
    case_wrappers: WrappersFn,
    oracle_wrappers: WrappersFn,
) -> Iterator[ServerPair]:
    """Hayhooks and the generated service for one case id (``indirect`` parameter).

    Started once per module and case; Hayhooks first, so a Hayhooks start failure is reported
    even when the generator does not work yet. ``wrappers`` is the generated side's input.
    """
    case: str = request.param
    wrappers = case_wrappers(case)
    with contextlib.ExitStack() as stack:
        hayhooks = stack.enter_context(running_hayhooks(case, oracle_wrappers(case)))
        out = build_case(case)
        generated = stack.enter_context(running_generated(out))
        yield ServerPair(case, wrappers, out, hayhooks, generated)


# Appended to a body the server cut short (an error in the middle of a stream), so that a cut
# and a complete body never compare equal.
TRUNCATED = b"\n<connection closed before the end of the body>"
MAX_BODY_PARTS = 100_000


def read_whole(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The response, body read to its end; a body cut short is kept, marked with ``TRUNCATED``."""
    with client.stream(method, path, **kwargs) as response:
        parts: list[bytes] = []
        try:
            for part in response.iter_bytes():
                parts.append(part)
                assert len(parts) < MAX_BODY_PARTS, f"{method} {path}: endless body"
        except httpx.RemoteProtocolError:
            parts.append(TRUNCATED)
    return httpx.Response(
        response.status_code,
        headers=response.headers.multi_items(),
        content=b"".join(parts),
        request=response.request,
    )
