"""The parse stage: wrapper source -> model, and the located problems it refuses."""

from __future__ import annotations

import pytest

from hayhooks_gen.discover import PipelineSource, python_ident
from hayhooks_gen.model import ReturnKind
from hayhooks_gen.parse import parse_pipeline

HEADER = (
    "from fastapi.responses import FileResponse\n"
    "from starlette.datastructures import Headers\n"
    "from hayhooks import BasePipelineWrapper\n\n"
    "class PipelineWrapper(BasePipelineWrapper):\n"
    "    def setup(self) -> None:\n"
    "        self.pipeline = None\n\n"
)


def _parse(body: str):  # type: ignore[no-untyped-def]
    source = PipelineSource("p", "p", "p", (("pipeline_wrapper.py", (HEADER + body).encode()),))
    return parse_pipeline(source)


def test_headers_opt_in_is_excluded_from_the_request_model() -> None:
    pipeline, problems = _parse(
        "    def run_api(self, q: str, headers: Headers | None = None) -> str:\n        return q\n"
    )
    assert problems == [] and pipeline is not None and pipeline.run is not None
    assert pipeline.run.wants_headers and [p.name for p in pipeline.run.params] == ["q"]


@pytest.mark.parametrize(
    "signature",
    [
        "headers: Headers",
        "headers: Headers | None",
        "headers: Headers | int | None = None",
    ],
)
def test_malformed_headers_opt_in_is_refused_with_its_location(signature: str) -> None:
    params = f"self, model: str, messages: list, body: dict, {signature}"
    body = f"    def run_chat_completion({params}) -> str:\n"
    pipeline, problems = _parse(body + "        return ''\n")
    assert pipeline is None
    assert [(d.line, d.message.split(":")[0]) for d in problems] == [(9, "'run_chat_completion'")]


def test_async_wins_and_response_subclass_is_classified() -> None:
    pipeline, problems = _parse(
        "    def run_api(self, a: int) -> str:\n        return ''\n"
        "    async def run_api_async(self, path: str = 'x') -> FileResponse:\n"
        "        return FileResponse(path)\n"
    )
    assert problems == [] and pipeline is not None and pipeline.run is not None
    assert pipeline.run.name == "run_api_async" and pipeline.run.is_async
    assert pipeline.run.return_kind is ReturnKind.RESPONSE


@pytest.mark.parametrize(
    ("name", "ident"),
    [
        ("my-pipe", "my_pipe"),
        ("2x", "p_2x"),
        ("class", "p_class"),
        ("openai", "p_openai"),
        ("ok", "ok"),
    ],
)
def test_python_identifiers_for_pipeline_names(name: str, ident: str) -> None:
    assert python_ident(name) == ident


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    def run_api(self, n: int) -> Generator[str, None, None]:\n        yield 'x'\n", True),
        (
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n"
            "        x = yield 'x'\n        return x\n",
            True,
        ),
        # a yield in a nested function, lambda or class belongs to that scope
        (
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n"
            "        def inner():\n            yield 1\n"
            "        return inner()\n",
            False,
        ),
        (
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n"
            "        f = lambda: (yield)\n        return f()\n",
            False,
        ),
        # a decorator may turn a generator function into anything
        (
            "    @staticmethod_like\n"
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n        yield 'x'\n",
            False,
        ),
        (
            "    async def run_api_async(self, n: int) -> AsyncGenerator[str, None]:\n"
            "        yield 'x'\n",
            False,
        ),
        # no "yield" in the text: not walked; the word in a string only: walked, not one
        (
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n"
            "        return iter([])\n",
            False,
        ),
        (
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n"
            "        return iter(['yield'])\n",
            False,
        ),
    ],
)
def test_generator_functions_are_recognised_statically(body: str, expected: bool) -> None:
    imports = (
        "from collections.abc import AsyncGenerator, Generator\n"
        "def staticmethod_like(f):\n    return f\n"
    )
    source = PipelineSource(
        "p", "p", "p", (("pipeline_wrapper.py", (imports + HEADER + body).encode()),)
    )
    pipeline, problems = parse_pipeline(source)
    assert not problems and pipeline is not None and pipeline.run is not None
    assert pipeline.run.is_generator is expected


@pytest.mark.parametrize(
    "value",
    ['"agent"', "'pipeline'", '"unk" "nown"', "None", "KIND", "os.environ.get('KIND')"],
)
def test_deployment_type_accepted_or_left_to_start_up(value: str) -> None:
    """Accepted literals, and computed values (which only the service can check), build."""
    run = "    def run_api(self, q: str) -> str:\n        return q\n"
    pipeline, problems = _parse(f"    deployment_type = {value}\n\n{run}")
    assert problems == [] and pipeline is not None


@pytest.mark.parametrize("value", ['"agents"', "''", "b'agent'", "1", "False", "['agent']"])
def test_deployment_type_literal_hayhooks_refuses_is_a_located_error(value: str) -> None:
    run = "    def run_api(self, q: str) -> str:\n        return q\n"
    pipeline, problems = _parse(f"    deployment_type: str | None = {value}\n\n{run}")
    assert pipeline is None
    assert [(d.line, d.col, d.message) for d in problems] == [
        (9, 35, f"deployment_type must be 'agent', 'pipeline', 'unknown' or None, not {value}")
    ]
