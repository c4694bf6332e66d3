"""Parity: each golden wrappers folder served by Hayhooks 2.1.0 and by the generated service.

Both servers start once per case (module-scoped ``server_pair``). Every test collects all the
differences of its aspect and fails with the full list, Hayhooks' value first.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from support.compare import (
    OPENAI_PATHS,
    compare_openai_routes,
    compare_paths,
    compare_responses,
    compare_run_routes,
    compare_status_routes,
    minimal_request,
    request_schema,
    run_routes,
)
from support.fixtures import ServerPair, parity_cases, read_whole

from .extra_requests import EXTRA_REQUESTS, ExtraRequest

CASES = parity_cases()

pytestmark = [
    pytest.mark.parity,
    pytest.mark.e2e,
    pytest.mark.parametrize(
        "server_pair",
        CASES
        or [
            pytest.param(
                None, marks=pytest.mark.skip(reason="no golden cases under golden/*/wrappers")
            )
        ],
        indirect=True,
    ),
]

# The same Host header on both sides, so a wrapper that reads request headers sees the same ones.
FIXED_HEADERS = {"host": "parity.test"}

_OPENAI_METHOD_RE = re.compile(
    r"^\s*(?:async\s+)?def\s+run_(?:chat_completion|response|file_upload)(?:_async)?\s*\(", re.M
)


def _fail_on(diffs: list[str], what: str) -> None:
    assert not diffs, f"{len(diffs)} {what} difference(s):\n" + "\n".join(f"  - {d}" for d in diffs)


def _pipelines(pair: ServerPair) -> list[str]:
    body = pair.hayhooks.client.get("/status").json()
    names: list[str] = body["pipelines"]
    return names


# ------------------------------------------------------------------------------------ OpenAPI


def test_openapi_paths(server_pair: ServerPair) -> None:
    _fail_on(compare_paths(server_pair.hayhooks.openapi, server_pair.generated.openapi), "path")


def test_openapi_run_routes(server_pair: ServerPair) -> None:
    oa_h, oa_g = server_pair.hayhooks.openapi, server_pair.generated.openapi
    diffs = []
    runs_h, runs_g = set(run_routes(oa_h)), set(run_routes(oa_g))
    if runs_h != runs_g:
        diffs.append(f"run routes: hayhooks={sorted(runs_h)} generated={sorted(runs_g)}")
    diffs.extend(compare_run_routes(oa_h, oa_g))
    _fail_on(diffs, "run route OpenAPI")


def test_openapi_status_routes(server_pair: ServerPair) -> None:
    diffs = compare_status_routes(server_pair.hayhooks.openapi, server_pair.generated.openapi)
    _fail_on(diffs, "status route OpenAPI")


def test_openapi_openai_routes(server_pair: ServerPair) -> None:
    """OpenAI routes exist in the generated service iff a wrapper implements them.

    When both sides have them, they must match.
    """
    # every module of a pipeline folder: a wrapper may inherit the method from a sibling's class
    sources = [p.read_text(encoding="utf-8") for p in server_pair.wrappers.glob("*/**/*.py")]
    expected = any(_OPENAI_METHOD_RE.search(src) for src in sources)
    present = sorted(p for p in OPENAI_PATHS if p in server_pair.generated.openapi.get("paths", {}))
    diffs: list[str] = []
    if expected and not present:
        diffs.append(
            "a wrapper implements chat/responses/file upload, but the generated service has "
            "no OpenAI routes"
        )
    if not expected and present:
        diffs.append(
            f"no wrapper implements chat/responses/file upload, yet generated has {present}"
        )
    diffs.extend(compare_openai_routes(server_pair.hayhooks.openapi, server_pair.generated.openapi))
    _fail_on(diffs, "OpenAI route")


# ------------------------------------------------------------------------------------ runtime


def test_run_responses(server_pair: ServerPair) -> None:
    """Every POST /{name}/run with a minimal valid body: status, content-type, headers, body."""
    oa_h = server_pair.hayhooks.openapi
    routes = run_routes(oa_h)
    diffs: list[str] = []
    requests: list[str] = []
    for path, operation in sorted(routes.items()):
        spec = minimal_request(oa_h, operation)
        requests.append(f"{path}: {spec!r}")
        r_h = server_pair.hayhooks.client.post(path, headers=FIXED_HEADERS, **spec.kwargs)
        r_g = server_pair.generated.client.post(path, headers=FIXED_HEADERS, **spec.kwargs)
        diffs.extend(compare_responses(f"POST {path}", r_h, r_g))
    if diffs:
        diffs.append("requests sent: " + "; ".join(requests))
    _fail_on(diffs, "run response")


def test_status_per_pipeline(server_pair: ServerPair) -> None:
    diffs: list[str] = []
    names = _pipelines(server_pair)
    for name in [*names, "nope"]:
        r_h = server_pair.hayhooks.client.get(f"/status/{name}")
        r_g = server_pair.generated.client.get(f"/status/{name}")
        diffs.extend(compare_responses(f"GET /status/{name}", r_h, r_g))
    r_nope = server_pair.hayhooks.client.get("/status/nope")
    assert r_nope.status_code == 404, r_nope.text
    _fail_on(diffs, "status")


def test_status_all(server_pair: ServerPair) -> None:
    """GET /status: the whole body, including 2.1.0's durable-mode fields."""
    r_h = server_pair.hayhooks.client.get("/status")
    r_g = server_pair.generated.client.get("/status")
    assert r_h.status_code == 200, r_h.text
    _fail_on(compare_responses("GET /status", r_h, r_g), "GET /status")


def _json_route_with_required(pair: ServerPair) -> tuple[str, dict[str, Any]] | None:
    oa_h = pair.hayhooks.openapi
    for path, operation in sorted(run_routes(oa_h).items()):
        ctype, schema = request_schema(oa_h, operation)
        if ctype == "application/json" and isinstance(schema, dict) and schema.get("required"):
            return path, operation
    return None


def test_validation_errors(server_pair: ServerPair) -> None:
    """422 bodies for an empty JSON object and for no body at all, compared whole."""
    found = _json_route_with_required(server_pair)
    if found is None:
        pytest.skip("no JSON /run route with a required field in this case")
    path, _ = found
    diffs: list[str] = []
    r_h = server_pair.hayhooks.client.post(path, json={})
    r_g = server_pair.generated.client.post(path, json={})
    assert r_h.status_code == 422, r_h.text
    diffs.extend(compare_responses(f"POST {path} {{}}", r_h, r_g))
    r_h = server_pair.hayhooks.client.post(path)
    r_g = server_pair.generated.client.post(path)
    diffs.extend(compare_responses(f"POST {path} <no body>", r_h, r_g))
    r_h = server_pair.hayhooks.client.post(
        path, content=b"{not json", headers={"content-type": "application/json"}
    )
    r_g = server_pair.generated.client.post(
        path, content=b"{not json", headers={"content-type": "application/json"}
    )
    diffs.extend(compare_responses(f"POST {path} <invalid json>", r_h, r_g))
    _fail_on(diffs, "validation error")


def test_unknown_and_wrong_method(server_pair: ServerPair) -> None:
    """POST /nope/run is 404; GET on a run route is 405 with ``allow: POST``."""
    diffs: list[str] = []
    r_h = server_pair.hayhooks.client.post("/nope/run", json={})
    r_g = server_pair.generated.client.post("/nope/run", json={})
    assert r_h.status_code == 404, r_h.text
    diffs.extend(compare_responses("POST /nope/run", r_h, r_g))
    routes = sorted(run_routes(server_pair.hayhooks.openapi))
    if routes:
        r_h = server_pair.hayhooks.client.get(routes[0])
        r_g = server_pair.generated.client.get(routes[0])
        assert r_h.status_code == 405, r_h.text
        diffs.extend(compare_responses(f"GET {routes[0]}", r_h, r_g))
    _fail_on(diffs, "404/405")


def test_case_requests(server_pair: ServerPair) -> None:
    """The requests of the case's CASE.md (``extra_requests.py``), in order, on both servers."""
    extra = EXTRA_REQUESTS.get(server_pair.case)
    if not extra:
        pytest.skip(f"no hand-written requests for {server_pair.case}")
    diffs: list[str] = []
    for req in extra:
        r_h = _send(server_pair.hayhooks.client, req)
        r_g = _send(server_pair.generated.client, req)
        diffs.extend(compare_responses(req.label(), r_h, r_g, mask=req.mask_volatile))
    _fail_on(diffs, "response")


def _send(client: httpx.Client, req: ExtraRequest) -> httpx.Response:
    headers = [*FIXED_HEADERS.items(), *req.headers]
    return read_whole(client, req.method, req.path, headers=headers, **req.kwargs)
