"""Parity of the HAYHOOKS_* settings the generated service reads: CORS, root path,
monitoring (as /status reports it), names in any case, a `.env` file, the additional Python
path, and a value that is not a boolean.

One golden case (json_basic) served by both servers under each settings scenario; the `.env`,
additional-path and bad-value tests start their own pairs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.compare import compare_responses, diff_values
from support.fixtures import BuildFn, ServerPair, WrappersFn, running_generated, running_hayhooks
from support.servers import ServerStartError, build_service

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
        # pydantic reads "60.0" as a whole number; Python's int() does not
        "HAYHOOKS_CORS_MAX_AGE": "60.0",
    },
    "root_path": {"HAYHOOKS_ROOT_PATH": "/api"},
    # pydantic-settings matches names in any case
    "lowercase_names": {
        "hayhooks_cors_allow_origins": '["https://a.example"]',
        "Hayhooks_Cors_Allow_Methods": '["POST"]',
        "hayhooks_root_path": "/api",
    },
    "monitoring_off": {"HAYHOOKS_MONITORING_ENABLED": "false"},
}

pytestmark = [pytest.mark.parity, pytest.mark.e2e]

LIST_MESSAGE = "must be a JSON list of strings, for example '[\"*\"]'"


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


def test_status(settings_pair: ServerPair) -> None:
    """/status, whose capabilities.execution_enumeration follows HAYHOOKS_MONITORING_ENABLED."""
    _fail_on(_both(settings_pair, "GET", "/status"))


DOTENV = (
    "# comment\n"
    "HAYHOOKS_ROOT_PATH=/fromdotenv\n"
    "export HAYHOOKS_CORS_ALLOW_ORIGINS='[\"https://a.example\"]'\n"
    "HAYHOOKS_CORS_MAX_AGE=5\n"
)


def test_dotenv_file(case_wrappers: WrappersFn, tmp_path: Path) -> None:
    """A `.env` in the working folder is loaded; it does not override a variable already set."""
    out = build_service(case_wrappers(CASE), tmp_path / "service")
    (out / ".env").write_text(DOTENV, encoding="utf-8")
    env = {"HAYHOOKS_CORS_MAX_AGE": "60"}
    preflight = {
        "origin": "https://a.example",
        "access-control-request-method": "POST",
    }
    with (
        running_hayhooks(CASE, case_wrappers(CASE), env, cwd_files={".env": DOTENV}) as hayhooks,
        running_generated(out, env) as generated,
    ):
        pair = ServerPair("dotenv", case_wrappers(CASE), out, hayhooks, generated)
        diffs = diff_values(
            hayhooks.openapi.get("servers"), generated.openapi.get("servers"), "[dotenv] servers"
        )
        diffs += _both(pair, "OPTIONS", ROUTE, headers=preflight)
        diffs += _both(pair, "OPTIONS", ROUTE, headers={**preflight, "origin": "https://b.other"})
        assert generated.openapi.get("servers") == [{"url": "/fromdotenv"}]
        r = generated.client.options(ROUTE, headers=preflight)
        assert r.headers["access-control-max-age"] == "60"
    _fail_on(diffs)


SHARED_LIB = "def shout(text: str) -> str:\n    return text.upper() + '!'\n"
SHOUT_WRAPPER = """\
from hayhooks import BasePipelineWrapper
from my_custom_lib import shout


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        pass

    def run_api(self, text: str) -> str:
        \"\"\"Shout the text.

        Args:
            text: what to shout
        \"\"\"
        return shout(text)
"""


def test_additional_python_path(tmp_path: Path) -> None:
    """Shared code between wrappers comes from HAYHOOKS_ADDITIONAL_PYTHON_PATH on both sides."""
    (tmp_path / "lib" / "my_custom_lib").mkdir(parents=True)
    (tmp_path / "lib" / "my_custom_lib" / "__init__.py").write_text(SHARED_LIB, encoding="utf-8")
    (tmp_path / "wrappers" / "shout").mkdir(parents=True)
    wrapper = tmp_path / "wrappers" / "shout" / "pipeline_wrapper.py"
    wrapper.write_text(SHOUT_WRAPPER, encoding="utf-8")
    out = build_service(tmp_path / "wrappers", tmp_path / "service")
    env = {"HAYHOOKS_ADDITIONAL_PYTHON_PATH": str(tmp_path / "lib")}
    with (
        running_hayhooks("shared_code", tmp_path / "wrappers", env) as hayhooks,
        running_generated(out, env) as generated,
    ):
        pair = ServerPair("shared_code", tmp_path / "wrappers", out, hayhooks, generated)
        diffs = _both(pair, "POST", "/shout/run", json={"text": "hi"})
        assert generated.client.post("/shout/run", json={"text": "hi"}).json() == {"result": "HI!"}
    _fail_on(diffs)


BAD_VALUES = {
    "not_a_boolean": (
        "HAYHOOKS_SHOW_TRACEBACKS",
        "maybe",
        "must be a boolean (true/false, 1/0, yes/no, on/off)",
    ),
    "empty_boolean": (
        "HAYHOOKS_SHOW_TRACEBACKS",
        "",
        "must be a boolean (true/false, 1/0, yes/no, on/off)",
    ),
    "empty_list": ("HAYHOOKS_CORS_ALLOW_ORIGINS", "", LIST_MESSAGE),
    "not_json": ("HAYHOOKS_CORS_ALLOW_ORIGINS", "https://a.example", LIST_MESSAGE),
    # a string, not a list: CORSMiddleware would match origins by substring
    "json_string": ("HAYHOOKS_CORS_ALLOW_ORIGINS", '"https://a.example"', LIST_MESSAGE),
    "not_strings": ("HAYHOOKS_CORS_EXPOSE_HEADERS", "[1]", LIST_MESSAGE),
    "fraction": ("HAYHOOKS_CORS_MAX_AGE", "60.5", "must be a whole number"),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_bad_value_stops_both(case_wrappers: WrappersFn, build_case: BuildFn, case: str) -> None:
    """A value Hayhooks' settings fail to validate: neither server starts, and the service
    says which variable and what it must be."""
    name, value, message = BAD_VALUES[case]
    env = {name: value}
    with pytest.raises(ServerStartError), running_hayhooks(CASE, case_wrappers(CASE), env):
        pass
    with pytest.raises(ServerStartError) as failed, running_generated(build_case(CASE), env):
        pass
    assert f"{name} {message}, not {value!r}" in failed.value.stderr_tail
