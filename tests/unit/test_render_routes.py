"""What the render stage writes for a pipeline's POST /{name}/run route module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hayhooks_gen.build import generate

HEAD = (
    "from collections.abc import Generator\n"
    "from datetime import date\n"
    "from typing import Any, Literal, Optional\n\n"
    "from fastapi import UploadFile\n"
    "from pydantic import BaseModel\n"
    "from starlette.datastructures import Headers\n\n"
    "from hayhooks import BasePipelineWrapper\n\n\n"
    "class Doc(BaseModel):\n    text: str\n\n\n"
    "class PipelineWrapper(BasePipelineWrapper):\n"
    "    def setup(self) -> None:\n        self.pipeline = None\n\n"
)


def _route(tmp_path: Path, body: str) -> str:
    folder = tmp_path / "wrappers" / "p"
    folder.mkdir(parents=True)
    (folder / "pipeline_wrapper.py").write_text(HEAD + body, encoding="utf-8")
    return generate(tmp_path / "wrappers").generated["app/routes/p.py"].decode()


def _call(source: str) -> str:
    """The expression assigned to ``result`` in the endpoint, as source text."""
    tree = ast.parse(source)
    endpoint = next(n for n in tree.body if isinstance(n, ast.AsyncFunctionDef))
    handler = next(n for n in endpoint.body if isinstance(n, ast.Try))
    assign = next(n for n in handler.body if isinstance(n, ast.Assign))
    return ast.unparse(assign.value)


@pytest.mark.parametrize(
    ("signature", "call"),
    [
        (
            "self, q: str, n: int = 2, tags: list[str] | None = None",
            "await run_sync(wrapper.run_api, q=run_req.q, n=run_req.n, tags=run_req.tags)",
        ),
        (
            "self, when: date, mode: Literal['a', 'b'], extra: Optional[dict[str, Any]] = None",
            "await run_sync(wrapper.run_api, when=run_req.when, mode=run_req.mode, "
            "extra=run_req.extra)",
        ),
        ("self, files: list[UploadFile]", "await run_sync(wrapper.run_api, files=run_req.files)"),
        ("self", "await run_sync(wrapper.run_api)"),
        # a model (or a type we cannot see into) is passed as model_dump() makes it: a dict
        ("self, q: str, doc: Doc", "await run_sync(wrapper.run_api, **run_req.model_dump())"),
        (
            "self, q: str, headers: Headers | None = None",
            "await run_sync(wrapper.run_api, q=run_req.q, headers=request.headers)",
        ),
    ],
)
def test_sync_run_api_gets_the_request_fields_by_name(
    tmp_path: Path, signature: str, call: str
) -> None:
    source = _route(tmp_path, f"    def run_api({signature}) -> dict:\n        return {{}}\n")
    assert _call(source) == call


def test_async_run_api_is_awaited_on_the_event_loop(tmp_path: Path) -> None:
    source = _route(
        tmp_path, "    async def run_api_async(self, q: str) -> str:\n        return q\n"
    )
    assert _call(source) == "await wrapper.run_api_async(q=run_req.q)"
    assert "run_sync" not in source


def test_a_generator_function_is_called_on_the_event_loop(tmp_path: Path) -> None:
    source = _route(
        tmp_path,
        "    def run_api(self, n: int) -> Generator[str, None, None]:\n        yield str(n)\n",
    )
    assert _call(source) == "wrapper.run_api(n=run_req.n)"
    assert "run_sync" not in source


def test_routes_are_registered_on_the_app_with_the_guard(tmp_path: Path) -> None:
    source = _route(tmp_path, "    def run_api(self, q: str) -> dict:\n        return {}\n")
    tree = ast.parse(source)
    register = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    assert ast.unparse(register.args) == "app: FastAPI, dependencies: Sequence[Depends]"
    (statement,) = register.body[1:]  # after the docstring: one add_api_route call
    call = statement.value  # type: ignore[attr-defined]
    assert ast.unparse(call.func) == "app.add_api_route"
    assert [ast.unparse(a) for a in call.args] == ["'/p/run'", "p_run"]
    keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
    assert keywords["methods"] == "['POST']"
    assert keywords["dependencies"] == "dependencies"
    assert "APIRouter" not in source
