"""End-to-end: build golden cases, serve the generated service under uvicorn, call it over HTTP.

Only the generated service is involved here; the expected values come from each case's CASE.md
(and agree with Hayhooks 2.1.0, see tests/parity).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.fixtures import BuildFn, Server, running_generated
from support.servers import wrappers_dir

pytestmark = pytest.mark.e2e

MAX_STREAM_CHUNKS = 10_000


def _generated(
    build_case: BuildFn, case: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    out = build_case(case)
    with running_generated(out, env) as server:
        yield server


@pytest.fixture(scope="module")
def file_response(build_case: BuildFn) -> Iterator[Server]:
    yield from _generated(build_case, "file_response")


@pytest.fixture(scope="module")
def response_kinds(build_case: BuildFn) -> Iterator[Server]:
    yield from _generated(build_case, "response_kinds")


@pytest.fixture(scope="module")
def generators(build_case: BuildFn) -> Iterator[Server]:
    yield from _generated(build_case, "generators")


@pytest.fixture(scope="module")
def uploads(build_case: BuildFn) -> Iterator[Server]:
    yield from _generated(build_case, "uploads")


@pytest.fixture(scope="module")
def errors(build_case: BuildFn) -> Iterator[Server]:
    yield from _generated(build_case, "headers_and_errors")


@pytest.fixture(scope="module")
def errors_with_tracebacks(build_case: BuildFn) -> Iterator[Server]:
    yield from _generated(build_case, "headers_and_errors", {"HAYHOOKS_SHOW_TRACEBACKS": "true"})


# ------------------------------------------------------------------------------ file_response


def test_file_response_download(file_response: Server) -> None:
    logo = (wrappers_dir("file_response") / "image" / "logo.png").read_bytes()
    r = file_response.client.post("/image/run", json={})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"] == 'attachment; filename="logo.png"'
    assert r.headers["x-wrapper"] == "1"
    assert r.content == logo
    assert r.headers["content-length"] == str(len(logo))


def test_file_response_asset_copied_byte_for_byte(build_case: BuildFn) -> None:
    out = build_case("file_response")
    logo = (wrappers_dir("file_response") / "image" / "logo.png").read_bytes()
    copies = sorted(p for p in (out / "app").rglob("logo.png") if p.is_file())
    assert copies, f"no logo.png under {out / 'app'}"
    assert all(p.read_bytes() == logo for p in copies), copies


def test_file_response_openapi_has_no_schema(file_response: Server) -> None:
    op = file_response.openapi["paths"]["/image/run"]["post"]
    assert op["responses"]["200"].get("content") is None, op["responses"]["200"]
    assert "imageRunResponse" not in file_response.openapi.get("components", {}).get("schemas", {})


# ------------------------------------------------------------------------------ response_kinds


def test_raw_bytes_status_and_header(response_kinds: Server) -> None:
    r = response_kinds.client.post("/raw_bytes/run", json={})
    assert r.status_code == 201
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["x-custom"] == "yes"
    assert r.content == b"\x00\x01binary"


def test_html_response(response_kinds: Server) -> None:
    r = response_kinds.client.post("/html/run", json={})
    assert (r.status_code, r.headers["content-type"], r.text) == (
        200,
        "text/html; charset=utf-8",
        "<h1>Hello</h1>",
    )
    r = response_kinds.client.post("/html/run", json={"title": "Hi"})
    assert r.text == "<h1>Hi</h1>"


def test_plain_text_response(response_kinds: Server) -> None:
    r = response_kinds.client.post("/plain/run", json={})
    assert (r.status_code, r.headers["content-type"], r.text) == (
        200,
        "text/plain; charset=utf-8",
        "hello",
    )


def test_redirect_response(response_kinds: Server) -> None:
    r = response_kinds.client.post("/redirect/run", json={})
    assert r.status_code == 307
    assert r.headers["location"] == "/status"
    assert r.content == b""


def test_json_response_unwrapped(response_kinds: Server) -> None:
    r = response_kinds.client.post("/json_resp/run", json={})
    assert r.status_code == 202
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"ok": True}


def test_streaming_response(response_kinds: Server) -> None:
    r = response_kinds.client.post("/stream_resp/run", json={})
    assert (r.status_code, r.headers["content-type"]) == (200, "text/csv; charset=utf-8")
    assert r.text == "id,name\n0,row-0\n1,row-1\n"
    r = response_kinds.client.post("/stream_resp/run", json={"n": 3})
    assert r.text == "id,name\n0,row-0\n1,row-1\n2,row-2\n"


def test_custom_response_subclass(response_kinds: Server) -> None:
    r = response_kinds.client.post("/custom_resp/run", json={})
    assert (r.status_code, r.headers["content-type"], r.text) == (
        200,
        "text/csv; charset=utf-8",
        "a,b\n1,2\n",
    )


def test_response_subclass_from_another_module_of_the_folder(response_kinds: Server) -> None:
    r = response_kinds.client.post("/sibling_resp/run", json={})
    assert (r.status_code, r.headers["content-type"], r.text) == (
        200,
        "text/csv; charset=utf-8",
        "x,y\n3,4\n",
    )
    content = response_kinds.openapi["paths"]["/sibling_resp/run"]["post"]["responses"]["200"]
    assert list(content["content"]) == ["text/csv"]


def test_response_kinds_have_no_response_model(response_kinds: Server) -> None:
    schemas = response_kinds.openapi.get("components", {}).get("schemas", {})
    names = ["raw_bytes", "html", "plain", "redirect", "json_resp", "stream_resp", "custom_resp"]
    names.append("sibling_resp")
    assert [n for n in names if f"{n}RunResponse" in schemas] == []
    assert sorted(f"/{n}/run" for n in names) == sorted(
        p for p in response_kinds.openapi["paths"] if p.endswith("/run")
    )


# ------------------------------------------------------------------------------ generators

SSE_BODY = (
    b'data: hello\n\ndata: multi\ndata: line\n\ndata:\n\ndata: bytes\n\ndata: {"k": 1}\n\n'
    b"data:\n\ndata: 42\n\n"
)


def _stream(
    server: Server, path: str, body: dict[str, object]
) -> tuple[int, dict[str, str], bytes]:
    chunks: list[bytes] = []
    with server.client.stream("POST", path, json=body) as r:
        for chunk in r.iter_bytes():
            chunks.append(chunk)
            assert len(chunks) < MAX_STREAM_CHUNKS, "stream did not end"
        return r.status_code, dict(r.headers), b"".join(chunks)


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/sync_gen/run", {}, b"chunk-0chunk-1chunk-2"),
        ("/sync_gen/run", {"n": 1}, b"chunk-0"),
        ("/async_gen/run", {"n": 2}, b"chunk-0chunk-1"),
        ("/async_gen/run", {}, b"chunk-0chunk-1chunk-2"),
        ("/mixed_items/run", {}, b'hellomulti\nlinebytes{"k": 1}42'),
    ],
)
def test_plain_streams(
    generators: Server, path: str, body: dict[str, object], expected: bytes
) -> None:
    status, headers, content = _stream(generators, path, body)
    assert status == 200
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert "content-length" not in headers, "a streamed body has no content-length"
    assert content == expected


def test_sse_stream(generators: Server) -> None:
    status, headers, content = _stream(generators, "/sse/run", {})
    assert status == 200
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert "content-length" not in headers
    assert content == SSE_BODY


def test_sse_stream_annotated_as_sse_stream(build_case: BuildFn) -> None:
    """`-> SSEStream` (which Hayhooks 2.1.0 cannot deploy) streams as the returned value says."""
    out = build_case("sse_annotation")
    with running_generated(out) as server:
        status, headers, content = _stream(server, "/countdown/run", {})
        assert (status, headers["content-type"]) == (200, "text/event-stream; charset=utf-8")
        assert content == b"data: event-2\n\ndata: event-1\n\n"
        assert _stream(server, "/countdown/run", {"n": 0})[2] == b""
        op = server.openapi["paths"]["/countdown/run"]["post"]
        assert op["responses"]["200"] == {"description": "Successful Response"}


def test_generator_routes_openapi(generators: Server) -> None:
    for name in ("sync_gen", "async_gen", "mixed_items", "sse"):
        resp_200 = generators.openapi["paths"][f"/{name}/run"]["post"]["responses"]["200"]
        assert resp_200 == {"description": "Successful Response"}, (name, resp_200)


# ------------------------------------------------------------------------------ uploads


def test_upload_two_files(uploads: Server) -> None:
    r = uploads.client.post(
        "/upload_files/run",
        data={"note": "n1"},
        files=[
            ("files", ("a.txt", b"abc", "text/plain")),
            ("files", ("b.bin", b"0123456789", "application/octet-stream")),
        ],
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "result": {
            "note": "n1",
            "files": [{"name": "a.txt", "size": 3}, {"name": "b.bin", "size": 10}],
        }
    }


def test_upload_form_without_files(uploads: Server) -> None:
    r = uploads.client.post("/upload_files/run", data={"note": "only"})
    assert r.status_code == 200, r.text
    assert r.json() == {"result": {"note": "only", "files": []}}


def test_upload_required_files_and_repeated_fields(uploads: Server) -> None:
    r = uploads.client.post(
        "/upload_one/run",
        data={"tags": ["x", "y"]},
        files=[("files", ("c.txt", b"c", "text/plain"))],
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"result": {"count": 1, "names": ["c.txt"], "tags": ["x", "y"]}}


def test_upload_missing_required_files(uploads: Server) -> None:
    r = uploads.client.post("/upload_one/run", data={"tags": "x"})
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert [(e["type"], e["loc"]) for e in errors] == [("missing", ["body", "files"])]


def test_upload_routes_are_multipart(uploads: Server) -> None:
    for name in ("upload_files", "upload_one"):
        body = uploads.openapi["paths"][f"/{name}/run"]["post"]["requestBody"]
        assert list(body["content"]) == ["multipart/form-data"], (name, body)
        assert body["content"]["multipart/form-data"]["schema"] == {
            "$ref": f"#/components/schemas/{name}RunRequest"
        }


# ------------------------------------------------------------------------------ headers_and_errors


def test_ok(errors: Server) -> None:
    r = errors.client.post("/errors/run", json={})
    assert (r.status_code, r.json()) == (200, {"result": {"ok": True}})


def test_http_exception_passthrough(errors: Server) -> None:
    r = errors.client.post("/errors/run", json={"mode": "http"})
    assert r.status_code == 403
    assert r.json() == {"detail": {"custom": "detail"}}
    assert r.headers["x-custom"] == "1"


def test_unexpected_error_is_500_without_traceback(errors: Server) -> None:
    r = errors.client.post("/errors/run", json={"mode": "boom"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "Pipeline execution failed: boom"}


def test_response_model_mismatch_is_500(errors: Server) -> None:
    r = errors.client.post("/errors/run", json={"mode": "bad"})
    assert r.status_code == 500
    detail = r.json()["detail"]
    assert detail.startswith(
        "Pipeline execution failed: 1 validation error for errorsRunResponse\nresult\n"
        "  Input should be a valid dictionary [type=dict_type, input_value='not a dict', "
        "input_type=str]"
    ), detail
    assert "Traceback" not in detail


def test_tracebacks_when_enabled(errors_with_tracebacks: Server) -> None:
    r = errors_with_tracebacks.client.post("/errors/run", json={"mode": "boom"})
    assert r.status_code == 500
    detail = r.json()["detail"]
    assert detail.startswith(
        "Pipeline execution failed: boom\nTraceback (most recent call last):\n"
    ), detail
    assert detail.rstrip().endswith("ValueError: boom"), detail
    assert "pipeline_wrapper.py" in detail
    # HTTPException still passes through untouched.
    r = errors_with_tracebacks.client.post("/errors/run", json={"mode": "http"})
    assert (r.status_code, r.json()) == (403, {"detail": {"custom": "detail"}})


# ------------------------------------------------------------------------------ string_annotations


@pytest.fixture(scope="module")
def string_annotations(build_case: BuildFn) -> Iterator[Server]:
    yield from _generated(build_case, "string_annotations")


def test_quoted_annotations(string_annotations: Server) -> None:
    r = string_annotations.client.post("/quoted/run", json={"q": "abc"})
    assert (r.status_code, r.json()) == (200, {"result": {"abc": 3}})
    r = string_annotations.client.post("/quoted/run", json={"q": "abc", "n": 7})
    assert r.json() == {"result": {"abc": 7}}


def test_type_checking_import_under_future_annotations(string_annotations: Server) -> None:
    """Hayhooks 2.1.0 cannot load this wrapper; the generated service serves it."""
    r = string_annotations.client.post("/future_ann/run", json={"text": "ab", "times": 2})
    assert (r.status_code, r.headers["content-type"], r.text) == (
        200,
        "text/plain; charset=utf-8",
        "abab",
    )
    op = string_annotations.openapi["paths"]["/future_ann/run"]["post"]
    assert list(op["responses"]["200"]["content"]) == ["text/plain"]
    schema = string_annotations.openapi["components"]["schemas"]["future_annRunRequest"]
    assert schema["required"] == ["text"]
    assert schema["properties"]["times"]["default"] == 1
