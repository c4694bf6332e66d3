"""Parity of the HAYHOOKS_* settings the generated service reads: CORS and root path.

One golden case (json_basic) served by both servers under each settings scenario.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from support.compare import compare_responses, diff_values
from support.fixtures import BuildFn, ServerPair, WrappersFn, running_generated, running_hayhooks

CASE = "json_basic"
ROUTE = "/echo/run"

SCENARIOS: dict[str, dict[str, str]] = {
    "default": {},
    "cors_restricted": {
        "HAYHOOKS_CORS_ALLOW_ORIGINS": '["https://a.example"]',
        "HAYHOOKS_CORS_ALLOW_METHODS": '["POST"]',
        "HAYHOOKS_CORS_ALLOW_HEADERS": '["x-foo"]',
        "HAYHOOKS_CORS_ALLOW_CREDENTIALS": "true",
        "HAYHOOKS_CORS_EXPOSE_HEADERS": '["x-bar"]',
        "HAYHOOKS_CORS_MAX_AGE": "60",
    },
    "cors_regex": {
        "HAYHOOKS_CORS_ALLOW_ORIGINS": "[]",
        "HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX": r"https://.*\.example",
    },
    "root_path": {"HAYHOOKS_ROOT_PATH": "/api"},
}

pytestmark = [pytest.mark.parity, pytest.mark.e2e]


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def settings_pair(
    request: pytest.FixtureRequest, build_case: BuildFn, case_wrappers: WrappersFn
) -> Iterator[ServerPair]:
    env = SCENARIOS[request.param]
    wrappers = case_wrappers(CASE)
    with contextlib.ExitStack() as stack:
        hayhooks = stack.enter_context(running_hayhooks(CASE, wrappers, env))
        out = build_case(CASE)
        generated = stack.enter_context(running_generated(out, env))
        yield ServerPair(request.param, wrappers, out, hayhooks, generated)


def _both(pair: ServerPair, method: str, path: str, **kwargs: object) -> list[str]:
    r_h = pair.hayhooks.client.request(method, path, **kwargs)  # type: ignore[arg-type]
    r_g = pair.generated.client.request(method, path, **kwargs)  # type: ignore[arg-type]
    return compare_responses(f"[{pair.case}] {method} {path} {kwargs.get('headers', '')}", r_h, r_g)


def _fail_on(diffs: list[str]) -> None:
    assert not diffs, f"{len(diffs)} difference(s):\n" + "\n".join(f"  - {d}" for d in diffs)


@pytest.mark.parametrize("origin", ["https://a.example", "https://b.other"])
def test_cors_preflight(settings_pair: ServerPair, origin: str) -> None:
    headers = {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-foo",
    }
    _fail_on(_both(settings_pair, "OPTIONS", ROUTE, headers=headers))


@pytest.mark.parametrize("origin", ["https://a.example", "https://b.other"])
def test_cors_simple_request(settings_pair: ServerPair, origin: str) -> None:
    _fail_on(_both(settings_pair, "POST", ROUTE, headers={"origin": origin}, json={"query": "q"}))


def test_root_path(settings_pair: ServerPair) -> None:
    diffs = diff_values(
        settings_pair.hayhooks.openapi.get("servers"),
        settings_pair.generated.openapi.get("servers"),
        f"[{settings_pair.case}] openapi servers",
    )
    for path in ("/status", "/api/status", "/api/echo/run"):
        r_h = settings_pair.hayhooks.client.request(
            "GET" if "status" in path else "POST", path, json={"query": "q"}
        )
        r_g = settings_pair.generated.client.request(
            "GET" if "status" in path else "POST", path, json={"query": "q"}
        )
        if r_h.status_code != r_g.status_code:
            diffs.append(
                f"[{settings_pair.case}] {path} status: "
                f"hayhooks={r_h.status_code} generated={r_g.status_code}"
            )
    _fail_on(diffs)
