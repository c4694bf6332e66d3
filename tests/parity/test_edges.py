"""Parity at the edges no golden case reaches: what a wrapper returns against what it
declared, streams that fail half-way, nested models, the request id, the documentation
pages, paths a client gets slightly wrong, and tracebacks in 500 details.

One wrappers folder written here, served by Hayhooks 2.1.0 and by the generated service,
each started once for the module (and once more with ``HAYHOOKS_SHOW_TRACEBACKS=true``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.compare import compare_responses, diff_values
from support.fixtures import TRUNCATED, ServerPair, read_whole, running_generated, running_hayhooks
from support.servers import build_service

pytestmark = [pytest.mark.parity, pytest.mark.e2e]

# The same Host on both sides: a redirect's Location is built from it.
HEADERS = {"host": "parity.test"}

RETURNS = '''\
import json

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from hayhooks import BasePipelineWrapper
from pydantic import BaseModel


class Inner(BaseModel):
    name: str
    tags: list[str] = []


class Outer(BaseModel):
    inner: Inner
    items: list[Inner] = []
    scores: dict[str, int] | None = None


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, mode: str, outer: Outer | None = None) -> str:
        """Return something other than what is declared, depending on ``mode``.

        Args:
            mode: which edge to take
            outer: a nested model, echoed back with the type it arrived as
        """
        if mode == "nested":
            # Hayhooks passes the request's model_dump(): a nested model arrives as a dict.
            return f"{type(outer).__name__} {json.dumps(outer, sort_keys=True)}"
        if mode == "int":
            return 5  # declared str
        if mode == "none":
            return None
        if mode == "dict":
            return {"a": 1}
        if mode == "response":
            return JSONResponse({"custom": True}, status_code=201, headers={"x-custom": "1"})
        if mode == "generator":
            return (f"part {i}\\n" for i in range(3))
        if mode == "http":
            raise HTTPException(status_code=418, detail={"why": "teapot"})
        if mode == "raise":
            raise ValueError("mode not supported")
        return mode
'''

BROKEN_STREAMS = '''\
from collections.abc import Generator

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, fail_at: int = 2) -> Generator[str, None, None]:
        """Yield chunks, then fail at chunk ``fail_at`` (never when it is negative).

        Args:
            fail_at: the chunk that raises
        """
        def chunks() -> Generator[str, None, None]:
            for i in range(4):
                if i == fail_at:
                    raise RuntimeError(f"failed at chunk {i}")
                yield f"chunk {i}\\n"

        return chunks()
'''

BROKEN_ASYNC_STREAMS = '''\
from collections.abc import AsyncGenerator

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    async def run_api_async(self, fail_at: int = 2) -> AsyncGenerator[str, None]:
        """Yield chunks asynchronously, then fail at chunk ``fail_at``.

        Args:
            fail_at: the chunk that raises
        """
        async def chunks() -> AsyncGenerator[str, None]:
            for i in range(4):
                if i == fail_at:
                    raise RuntimeError(f"failed at chunk {i}")
                yield f"chunk {i}\\n"

        return chunks()
'''

OPENAI_OBJECTS = '''\
from collections.abc import Generator

from fastapi_openai_compat import ChatCompletion, Choice, Message, Response, ResponseOutputMessage

from hayhooks import BasePipelineWrapper


def _completion(model: str, kind: str, content: str) -> ChatCompletion:
    message = Message(role="assistant", content=content)
    if kind == "chat.completion":
        choice = Choice(index=0, message=message, finish_reason="stop")
    else:
        choice = Choice(index=0, delta=message)
    return ChatCompletion(id="fixed", object=kind, created=1, model=model, choices=[choice])


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> str:
        """Answer with library objects, a dict, or mixed chunks, as the last message asks."""
        asked = messages[-1]["content"]
        if asked == "object":
            return _completion(model, "chat.completion", "from an object")
        if asked == "dict":
            return {"not": "supported"}
        if asked == "chunks":
            def chunks() -> Generator:
                yield _completion(model, "chat.completion.chunk", "a chunk object")
                yield "then text"
            return chunks()
        return asked

    def run_response(self, model: str, input_items: list[dict], body: dict) -> str:
        """The Responses API: a library Response object, or a dict."""
        asked = input_items[-1]["content"]
        if asked == "object":
            text = {"type": "output_text", "text": "from an object", "annotations": []}
            output = [ResponseOutputMessage(id="msg_fixed", content=[text]).model_dump()]
            return Response(id="resp_fixed", created_at=1, model=model, output=output)
        if asked == "dict":
            return {"not": "supported"}
        return asked
'''

FORM = '''\
from fastapi import UploadFile

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(
        self,
        files: list[UploadFile],
        count: int = 1,
        ratio: float | None = None,
        strict: bool = False,
        labels: list[str] = [],
        doc: UploadFile | None = None,
    ) -> dict:
        """A parameter named files makes a form: typed fields, and one more optional upload."""
        return {
            "files": [[f.filename, f.content_type, f.file.read().decode()] for f in files],
            "count": count,
            "ratio": ratio,
            "strict": strict,
            "labels": labels,
            "doc": None if doc is None else doc.filename,
        }
'''

# An UploadFile not named ``files`` keeps the JSON body; no JSON value can satisfy it.
LONE_UPLOAD = '''\
from fastapi import UploadFile

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, name: str, doc: UploadFile | None = None) -> str:
        """Only ever answers when doc is left out."""
        return name
'''

WRAPPERS = {
    "returns": RETURNS,
    "form": FORM,
    "lone_upload": LONE_UPLOAD,
    "objects": OPENAI_OBJECTS,
    "broken_stream": BROKEN_STREAMS,
    "broken_async_stream": BROKEN_ASYNC_STREAMS,
}

NESTED = {
    "inner": {"name": "a", "tags": ["x", "y"]},
    "items": [{"name": "b"}, {"name": "c", "tags": []}],
    "scores": {"k": 3},
}


@pytest.fixture(scope="module")
def edges_wrappers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("edges") / "wrappers"
    for name, text in WRAPPERS.items():
        (root / name).mkdir(parents=True)
        (root / name / "pipeline_wrapper.py").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def edges_service(edges_wrappers: Path) -> Path:
    return build_service(edges_wrappers, edges_wrappers.parent / "service")


@contextlib.contextmanager
def _pair(wrappers: Path, out: Path, env: dict[str, str] | None = None) -> Iterator[ServerPair]:
    with (
        running_hayhooks("edges", wrappers, env) as hayhooks,
        running_generated(out, env) as generated,
    ):
        yield ServerPair("edges", wrappers, out, hayhooks, generated)


@pytest.fixture(scope="module")
def pair(edges_wrappers: Path, edges_service: Path) -> Iterator[ServerPair]:
    with _pair(edges_wrappers, edges_service) as servers:
        yield servers


def _both(
    pair: ServerPair, method: str, path: str, *, mask: bool = False, **kwargs: Any
) -> list[str]:
    """Send the same request to both servers; ``mask``: ids and times that differ per call."""
    headers = {**HEADERS, **kwargs.pop("headers", {})}
    r_h = read_whole(pair.hayhooks.client, method, path, headers=headers, **kwargs)
    r_g = read_whole(pair.generated.client, method, path, headers=headers, **kwargs)
    shown = {k: v for k, v in kwargs.items() if k != "content"}
    return compare_responses(f"{method} {path} {shown}", r_h, r_g, mask=mask)


def _component_diffs(pair: ServerPair, *names: str) -> list[str]:
    """Differences between the two servers' OpenAPI ``components.schemas`` of ``names``."""
    schemas_h = pair.hayhooks.openapi["components"]["schemas"]
    schemas_g = pair.generated.openapi["components"]["schemas"]
    diffs: list[str] = []
    for name in names:
        diffs += diff_values(schemas_h.get(name), schemas_g.get(name), f"components.schemas.{name}")
    return diffs


def _fail_on(diffs: list[str]) -> None:
    assert not diffs, f"{len(diffs)} difference(s):\n" + "\n".join(f"  - {d}" for d in diffs)


# ------------------------------------------------------------------ returned vs declared


@pytest.mark.parametrize(
    "mode", ["plain", "int", "none", "dict", "response", "generator", "http", "raise"]
)
def test_returned_value_decides(pair: ServerPair, mode: str) -> None:
    """``-> str`` declared; a Response or generator returned is served as it is, a value of
    another type fails the response model (500), an HTTPException keeps its status."""
    _fail_on(_both(pair, "POST", "/returns/run", json={"mode": mode}))


def test_expected_outcomes(pair: ServerPair) -> None:
    """What the comparison above is comparing (so that two equal wrong answers do not pass)."""
    client = pair.generated.client
    assert client.post("/returns/run", json={"mode": "plain"}).json() == {"result": "plain"}
    wrong = client.post("/returns/run", json={"mode": "int"})
    assert wrong.status_code == 500
    assert wrong.json()["detail"].startswith("Pipeline execution failed: 1 validation error")
    response = client.post("/returns/run", json={"mode": "response"})
    assert (response.status_code, response.json(), response.headers["x-custom"]) == (
        201,
        {"custom": True},
        "1",
    )
    streamed = client.post("/returns/run", json={"mode": "generator"})
    assert streamed.headers["content-type"].startswith("text/plain")
    assert streamed.text == "part 0\npart 1\npart 2\n"
    teapot = client.post("/returns/run", json={"mode": "http"})
    assert (teapot.status_code, teapot.json()) == (418, {"detail": {"why": "teapot"}})


def test_nested_models(pair: ServerPair) -> None:
    """Nested pydantic parameters: schema components, a valid body (the wrapper gets it as
    a dict, as from Hayhooks' ``model_dump()``), and a 422 deep inside."""
    diffs = _both(pair, "POST", "/returns/run", json={"mode": "nested", "outer": NESTED})
    bad = {**NESTED, "items": [{"tags": "not a list"}]}
    diffs += _both(pair, "POST", "/returns/run", json={"mode": "nested", "outer": bad})
    diffs += _component_diffs(pair, "Inner", "Outer")
    body = pair.generated.client.post("/returns/run", json={"mode": "nested", "outer": NESTED})
    assert body.status_code == 200, body.text
    assert body.json()["result"].startswith('dict {"inner": {"name": "a", "tags": ["x", "y"]}')
    _fail_on(diffs)


# --------------------------------------------------------------------- broken streams


@pytest.mark.parametrize("pipeline", ["broken_stream", "broken_async_stream"])
@pytest.mark.parametrize("fail_at", [0, 2, -1])
def test_stream_failing_part_way(pair: ServerPair, pipeline: str, fail_at: int) -> None:
    """The chunks before the failure arrive, then the connection closes early; a stream
    failing at its first chunk has already sent its 200 headers."""
    _fail_on(_both(pair, "POST", f"/{pipeline}/run", json={"fail_at": fail_at}))
    got = read_whole(pair.generated.client, "POST", f"/{pipeline}/run", json={"fail_at": fail_at})
    expected = "".join(f"chunk {i}\n" for i in range(4 if fail_at < 0 else fail_at)).encode()
    assert got.content == expected + (b"" if fail_at < 0 else TRUNCATED)
    # The server is still serving after the broken stream.
    assert pair.generated.client.get("/status").status_code == 200


# ------------------------------------------------------------------------ multipart forms

UTF8 = ("files", ("a.txt", "caf\u00e9".encode(), "text/plain"))
# A fixed boundary: a 422 for a body that is not a form echoes the body, boundary included.
MULTIPART = {"content-type": "multipart/form-data; boundary=edge-boundary"}
FORMS: dict[str, dict[str, Any]] = {
    "files_only": {"files": [UTF8]},
    "typed_fields": {
        "data": {"count": "3", "ratio": "0.5", "strict": "yes", "labels": ["x", "y"]},
        "files": [
            UTF8,
            ("files", ("b.bin", b"", "application/octet-stream")),
            ("doc", ("d.txt", b"d", "text/plain")),
        ],
    },
    "one_label": {"data": {"labels": "x"}, "files": [UTF8]},
    "label_as_json": {"data": {"labels": '["x", "y"]'}, "files": [UTF8]},
    "bad_int": {"data": {"count": "three"}, "files": [UTF8]},
    "bad_bool": {"data": {"strict": "perhaps"}, "files": [UTF8]},
    "empty_optional_float": {"data": {"ratio": ""}, "files": [UTF8]},
    "missing_files": {"data": {"count": "2"}, "files": [("doc", ("d.txt", b"1", "x/y"))]},
    "files_as_text": {"data": {"files": "not a file"}},
    "doc_as_text": {"data": {"doc": "not a file"}, "files": [UTF8]},
    "file_without_type": {"files": [("files", ("raw", b"raw"))]},
    "urlencoded": {"data": {"count": "2"}},
    "json_body": {"json": {"count": 2}},
    "no_body": {},
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_multipart_forms(pair: ServerPair, form: str) -> None:
    """Form fields are parsed and validated as Hayhooks' form model does, uploads included."""
    kwargs = dict(FORMS[form])
    if "files" in kwargs:
        kwargs["headers"] = MULTIPART
    _fail_on(_both(pair, "POST", "/form/run", **kwargs))


def test_multipart_outcome(pair: ServerPair) -> None:
    r = pair.generated.client.post("/form/run", **FORMS["typed_fields"])
    assert r.status_code == 200, r.text
    assert r.json() == {
        "result": {
            "files": [
                ["a.txt", "text/plain", "caf\u00e9"],
                ["b.bin", "application/octet-stream", ""],
            ],
            "count": 3,
            "ratio": 0.5,
            "strict": True,
            "labels": ["x", "y"],
            "doc": "d.txt",
        }
    }


@pytest.mark.parametrize(
    "body", [{"name": "n"}, {"name": "n", "doc": "text"}, {"name": "n", "doc": None}]
)
def test_upload_not_named_files(pair: ServerPair, body: dict[str, Any]) -> None:
    """An UploadFile parameter not named ``files``: a JSON route, as in Hayhooks."""
    _fail_on(_both(pair, "POST", "/lone_upload/run", json=body))


def test_upload_not_named_files_schema(pair: ServerPair) -> None:
    _fail_on(_component_diffs(pair, "lone_uploadRunRequest"))


# ------------------------------------------------------------ OpenAI-compatible objects


@pytest.mark.parametrize("asked", ["object", "dict", "chunks", "text"])
@pytest.mark.parametrize("stream", [False, True])
def test_chat_completion_objects(pair: ServerPair, asked: str, stream: bool) -> None:
    """A library ChatCompletion returned or yielded is passed through; a dict is a 500."""
    body = {
        "model": "objects",
        "messages": [{"role": "user", "content": asked}],
        "stream": stream,
    }
    diffs = _both(pair, "POST", "/v1/chat/completions", json=body, mask=True)
    if asked == "object" and not stream:
        r = pair.generated.client.post("/v1/chat/completions", json=body)
        assert r.json()["choices"][0]["message"]["content"] == "from an object", r.text
    _fail_on(diffs)


@pytest.mark.parametrize("asked", ["object", "dict", "text"])
@pytest.mark.parametrize("stream", [False, True])
def test_response_objects(pair: ServerPair, asked: str, stream: bool) -> None:
    """A library Response returned by run_response is passed through; a dict is a 500."""
    body = {"model": "objects", "input": asked, "stream": stream}
    diffs = _both(pair, "POST", "/v1/responses", json=body, mask=True)
    if asked == "object" and not stream:
        r = pair.generated.client.post("/v1/responses", json=body)
        assert (r.json()["id"], r.json()["output"][0]["id"]) == ("resp_fixed", "msg_fixed"), r.text
    _fail_on(diffs)


# ------------------------------------------------------------------ request id, docs, paths


HEX8 = re.compile(r"^[0-9a-f]{8}$")


def test_request_id(pair: ServerPair) -> None:
    """Eight hex digits, new on every response (an incoming one is not echoed), on 200, 404,
    422 and streamed responses alike, as Hayhooks sends it."""
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/status", {}),
        ("GET", "/nope", {}),
        ("POST", "/returns/run", {"json": {}}),
        ("POST", "/returns/run", {"json": {"mode": "generator"}}),
    ]
    for server in (pair.hayhooks, pair.generated):
        for method, path, kwargs in requests:
            seen = set()
            for _ in range(2):
                r = server.client.request(method, path, headers={"x-request-id": "mine"}, **kwargs)
                ids = r.headers.get_list("x-request-id")
                assert len(ids) == 1 and HEX8.match(ids[0]), (server.url, path, ids)
                seen.add(ids[0])
            assert len(seen) == 2, (server.url, path, seen)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_documentation_pages(pair: ServerPair, path: str) -> None:
    _fail_on(_both(pair, "GET", path))


def test_openapi_info(pair: ServerPair) -> None:
    """Title and OpenAPI version as Hayhooks has them; info.version is a documented
    difference (README: the service's own version, not Hayhooks' package version)."""
    info_h = dict(pair.hayhooks.openapi["info"])
    info_g = dict(pair.generated.openapi["info"])
    assert info_g.pop("version") == "0.1.0"
    info_h.pop("version")
    diffs = diff_values(info_h, info_g, "info")
    diffs += diff_values(
        pair.hayhooks.openapi["openapi"], pair.generated.openapi["openapi"], "openapi"
    )
    _fail_on(diffs)


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/", {}),
        ("POST", "/returns/run/", {"json": {"mode": "plain"}}),  # redirect to the path without /
        ("POST", "/returns/run?mode=query", {"json": {"mode": "plain"}}),  # query ignored
        (
            "POST",
            "/returns/run",
            {"content": b"mode=plain", "headers": {"content-type": "text/plain"}},
        ),
        ("POST", "/returns/run", {"json": ["mode", "plain"]}),
        ("POST", "/returns/run", {"json": {"mode": "\u00e9\u6f22\U0001f600"}}),
        ("POST", "/returns/run", {"json": {"mode": "plain", "outer": None}}),
        ("HEAD", "/status", {}),
        ("OPTIONS", "/returns/run", {}),
        ("PUT", "/returns/run", {"json": {"mode": "plain"}}),
        ("GET", "/status/returns/", {}),
    ],
)
def test_slightly_wrong_requests(
    pair: ServerPair, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    _fail_on(_both(pair, method, path, **kwargs))


# ---------------------------------------------------------------------------- tracebacks


def _traceback_shape(detail: str) -> tuple[str, bool, str]:
    """First line, whether a traceback follows, and the exception's last line."""
    lines = detail.rstrip("\n").split("\n")
    return lines[0], "Traceback (most recent call last):" in detail, lines[-1]


def test_show_tracebacks(edges_wrappers: Path, edges_service: Path) -> None:
    """With HAYHOOKS_SHOW_TRACEBACKS=true a /run 500 detail carries the traceback on both
    sides (its frames name each server's own files, so only its shape is compared); an
    HTTPException's detail stays as it was raised."""
    env = {"HAYHOOKS_SHOW_TRACEBACKS": "true"}
    with _pair(edges_wrappers, edges_service, env) as servers:
        diffs = _both(servers, "POST", "/returns/run", json={"mode": "http"})
        shapes = []
        for server in (servers.hayhooks, servers.generated):
            r = server.client.post("/returns/run", json={"mode": "raise"})
            assert r.status_code == 500, r.text
            shapes.append(_traceback_shape(r.json()["detail"]))
        diffs += diff_values(shapes[0], shapes[1], "traceback shape")
        assert shapes[1] == (
            "Pipeline execution failed: mode not supported",
            True,
            "ValueError: mode not supported",
        )
    _fail_on(diffs)
