"""End-to-end: the OpenAI-compatible routes of generated services, over real HTTP.

The expected values come from each case's CASE.md (and agree with Hayhooks 2.1.0, see
tests/parity). The ``haystack_streaming`` tests drive a real Haystack pipeline through
Hayhooks' ``streaming_generator`` and ``async_streaming_generator``: a small component streams
through its ``streaming_callback`` (no model, no network).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.fixtures import BuildFn, Server, running_generated

pytestmark = pytest.mark.e2e

MAX_STREAM_PARTS = 10_000
PROMPT = "stream these words"


def _generated(build_case: BuildFn, case: str) -> Iterator[Server]:
    with running_generated(build_case(case)) as server:
        yield server


@pytest.fixture(scope="module")
def haystack_streaming(build_case: BuildFn) -> Iterator[Server]:
    yield from _generated(build_case, "haystack_streaming")


@pytest.fixture(scope="module")
def chat_and_run(build_case: BuildFn) -> Iterator[Server]:
    yield from _generated(build_case, "chat_and_run")


@pytest.fixture(scope="module")
def file_upload(build_case: BuildFn) -> Iterator[Server]:
    yield from _generated(build_case, "file_upload")


def _stream(
    client: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """(status, content-type, body) of a POST read as a stream, part by part."""
    parts: list[bytes] = []
    with client.stream("POST", path, json=body, headers=headers) as r:
        for part in r.iter_bytes():
            parts.append(part)
            assert len(parts) < MAX_STREAM_PARTS, "stream did not end"
        return r.status_code, r.headers["content-type"], b"".join(parts).decode()


def _sse(text: str) -> list[tuple[str | None, Any]]:
    """Server-sent events as (event name or None, decoded JSON data)."""
    events: list[tuple[str | None, Any]] = []
    assert text.endswith("\n\n"), text[-200:]
    for block in text[:-2].split("\n\n"):
        name = None
        data = None
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            else:
                assert field == "data", block
                data = json.loads(value)
        events.append((name, data))
    return events


def _chat(model: str, content: str, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], "stream": stream}


# ------------------------------------------------------------------------ haystack_streaming


@pytest.mark.parametrize("model", ["sync_stream", "async_stream"])
def test_haystack_chunks_stream_as_chat_completion_chunks(
    haystack_streaming: Server, model: str
) -> None:
    status, ctype, body = _stream(
        haystack_streaming.client, "/v1/chat/completions", _chat(model, PROMPT, stream=True)
    )
    assert (status, ctype) == (200, "text/event-stream; charset=utf-8"), body
    assert "[DONE]" not in body
    events = _sse(body)
    assert all(name is None for name, _ in events)
    chunks = [data for _, data in events]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert {c["model"] for c in chunks} == {model}
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith(f"{model}-")
    deltas = [c["choices"][0]["delta"] for c in chunks]
    finishes = [c["choices"][0]["finish_reason"] for c in chunks]
    # StreamingChunk(reasoning=...) -> reasoning_content; StreamingChunk(tool_calls=...) ->
    # tool_calls; content chunks -> content, the last one's finish_reason carried over.
    assert deltas[0]["reasoning_content"] == "pondering" and deltas[0]["content"] is None
    assert deltas[1]["content"] is None
    assert deltas[1]["tool_calls"] == [
        {
            "index": 0,
            "type": "function",
            "function": {"name": "search", "arguments": '{"q": 1}'},
            "id": "call_1",
        }
    ]
    assert [d["content"] for d in deltas[2:]] == ["stream", " these", " words"]
    assert finishes == [None, None, None, None, "stop"]


@pytest.mark.parametrize("model", ["sync_stream", "async_stream"])
def test_haystack_stream_drained_without_stream_flag(
    haystack_streaming: Server, model: str
) -> None:
    r = haystack_streaming.client.post("/v1/chat/completions", json=_chat(model, PROMPT))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == PROMPT
    assert body["choices"][0]["finish_reason"] == "stop"


def test_async_streaming_generator_in_responses_api(haystack_streaming: Server) -> None:
    status, ctype, body = _stream(
        haystack_streaming.client,
        "/v1/responses",
        {"model": "async_stream", "input": PROMPT, "stream": True},
    )
    assert (status, ctype) == (200, "text/event-stream; charset=utf-8"), body
    events = _sse(body)
    names = [name for name, _ in events]
    assert names[:2] == ["response.created", "response.in_progress"]
    assert names[-1] == "response.completed"
    assert [d["delta"] for n, d in events if n == "response.output_text.delta"] == [
        "stream",
        " these",
        " words",
    ]
    completed = events[-1][1]["response"]
    assert completed["status"] == "completed"
    output = completed["output"]
    assert [item["type"] for item in output] == ["reasoning", "function_call", "message"]
    assert output[0]["summary"] == [{"type": "summary_text", "text": "pondering"}]
    assert (output[1]["call_id"], output[1]["name"], output[1]["arguments"]) == (
        "call_1",
        "search",
        '{"q": 1}',
    )
    assert output[2]["content"][0]["text"] == PROMPT


def test_async_streaming_generator_responses_drained(haystack_streaming: Server) -> None:
    r = haystack_streaming.client.post(
        "/v1/responses", json={"model": "async_stream", "input": PROMPT}
    )
    assert r.status_code == 200, r.text
    output = r.json()["output"]
    assert [item["type"] for item in output] == ["message"]
    assert output[0]["content"][0]["text"] == PROMPT


def test_streaming_generator_on_run_route(haystack_streaming: Server) -> None:
    status, ctype, body = _stream(haystack_streaming.client, "/sync_stream/run", {"prompt": PROMPT})
    assert (status, ctype) == (200, "text/plain; charset=utf-8")
    assert body == "pondering" + PROMPT


def test_haystack_pipeline_without_responses_method(haystack_streaming: Server) -> None:
    r = haystack_streaming.client.post(
        "/v1/responses", json={"model": "sync_stream", "input": PROMPT}
    )
    assert (r.status_code, r.json()) == (
        501,
        {"detail": "Responses endpoint not implemented for this model"},
    )


# ------------------------------------------------------------------------------ chat_and_run


def test_models_list_every_pipeline(chat_and_run: Server) -> None:
    for path in ("/v1/models", "/models"):
        r = chat_and_run.client.get(path)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["object"] == "list"
        assert [(m["id"], m["name"], m["owned_by"]) for m in body["data"]] == [
            ("assistant", "assistant", "hayhooks"),
            ("chat_only", "chat_only", "hayhooks"),
        ]


@pytest.mark.parametrize(
    ("model", "content", "answer"),
    [("assistant", "hi", "Answer to: hi"), ("chat_only", "yo", "Echo: yo")],
)
def test_chat_completion_dispatches_by_model(
    chat_and_run: Server, model: str, content: str, answer: str
) -> None:
    r = chat_and_run.client.post("/v1/chat/completions", json=_chat(model, content))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["object"], body["model"]) == ("chat.completion", model)
    assert body["id"].startswith(f"{model}-")
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": answer,
        "reasoning_content": None,
        "tool_calls": None,
        "refusal": None,
    }


def test_string_result_streams_as_one_chunk(chat_and_run: Server) -> None:
    status, ctype, body = _stream(
        chat_and_run.client, "/chat/completions", _chat("assistant", "hi", stream=True)
    )
    assert (status, ctype) == (200, "text/event-stream; charset=utf-8")
    chunks = [data for _, data in _sse(body)]
    assert [
        (c["choices"][0]["delta"]["content"], c["choices"][0]["finish_reason"]) for c in chunks
    ] == [
        ("Answer to: hi", None),
        ("", "stop"),
    ]


@pytest.mark.parametrize(
    ("path", "model", "status", "detail"),
    [
        (
            "/v1/chat/completions",
            "nope",
            404,
            "Pipeline 'nope' not found or not a pipeline wrapper",
        ),
        ("/v1/responses", "nope", 404, "Pipeline 'nope' not found or not a pipeline wrapper"),
        ("/v1/responses", "assistant", 501, "Responses endpoint not implemented for this model"),
    ],
)
def test_unknown_model_and_missing_method(
    chat_and_run: Server, path: str, model: str, status: int, detail: str
) -> None:
    body = _chat(model, "x") if "chat" in path else {"model": model, "input": "x"}
    r = chat_and_run.client.post(path, json=body)
    assert (r.status_code, r.json()) == (status, {"detail": detail})


def test_default_file_upload_keeps_nothing(chat_and_run: Server) -> None:
    r = chat_and_run.client.post(
        "/v1/files",
        data={"purpose": "assistants"},
        files={"file": ("notes.txt", b"some notes\n", "text/plain")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"].startswith("file-") and len(body["id"]) == len("file-") + 24
    assert isinstance(body["created_at"], int)
    del body["id"], body["created_at"]
    assert body == {
        "object": "file",
        "bytes": 11,
        "filename": "notes.txt",
        "purpose": "assistants",
        "status": "processed",
    }


# ------------------------------------------------------------------------------ file_upload


def test_first_upload_wrapper_receives_every_upload(file_upload: Server) -> None:
    content = bytes(range(256))
    r = file_upload.client.post(
        "/files",
        data={"purpose": "assistants"},
        files={"file": ("data.bin", content, "application/octet-stream")},
    )
    assert r.status_code == 200, r.text
    file_id = r.json()["id"]
    assert r.json()["custom"] == "application/octet-stream"
    stored = file_upload.client.post("/a_store/run", json={"file_id": file_id})
    assert stored.status_code == 200, stored.text
    assert stored.json()["result"]["name"] == "data.bin"
    assert stored.json()["result"]["type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("purpose", "status", "detail"),
    [
        ("http", 413, "too big"),
        ("boom", 500, "File upload failed: disk full"),
        ("bad", 500, "run_file_upload returned an unsupported type"),
    ],
)
def test_upload_errors(file_upload: Server, purpose: str, status: int, detail: str) -> None:
    r = file_upload.client.post(
        "/v1/files", data={"purpose": purpose}, files={"file": ("a.txt", b"a", "text/plain")}
    )
    assert (r.status_code, r.json()) == (status, {"detail": detail})
