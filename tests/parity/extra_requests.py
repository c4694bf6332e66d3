"""Hand-written requests per golden case, taken from each case's CASE.md.

The parity test sends each of them to both servers, in this order, and compares the answers.
Cases not listed get only the requests derived from the OpenAPI schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExtraRequest:
    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Mask per-response ids and timestamps (OpenAI-compatible answers) before comparing.
    mask_volatile: bool = False

    def label(self) -> str:
        shown = {k: v for k, v in self.kwargs.items() if k != "files"}
        if "files" in self.kwargs:
            shown["files"] = [(name, f[0], len(f[1])) for name, f in self.kwargs["files"]]
        return f"{self.method} {self.path} {shown}"


def post(path: str, **kwargs: Any) -> ExtraRequest:
    return ExtraRequest("POST", path, kwargs)


def _chat(
    model: str, content: str, *, stream: bool = False, path: str = "/v1/chat/completions"
) -> ExtraRequest:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    return ExtraRequest("POST", path, {"json": body}, mask_volatile=True)


EXTRA_REQUESTS: dict[str, list[ExtraRequest]] = {
    "aliases": [
        post("/aliased/run", json={"x": 1, "tags": ["a", "b"]}),
        post("/qualified/run", json={"text": "hello"}),
        post("/qualified/run", json={}),
    ],
    "async_methods": [
        post("/both/run", json={"a": 1, "b": "y"}),
        post("/async_only/run", json={"a": 1}),
        post("/async_only/run", json={}),
        post("/async_only/run", json={"a": "not an int"}),
    ],
    "chat_and_run": [
        post("/assistant/run", json={"question": "why?"}),
        post("/chat_only/run", json={}),
        ExtraRequest("GET", "/v1/models", mask_volatile=True),
        ExtraRequest("GET", "/models", mask_volatile=True),
        _chat("assistant", "hi"),
        _chat("chat_only", "yo"),
        _chat("chat_only", "yo", path="/chat/completions"),
        _chat("nope", "x"),
        _chat("assistant", "hi", stream=True),
        ExtraRequest("POST", "/v1/responses", {"json": {"model": "assistant", "input": "hi"}}),
        ExtraRequest("POST", "/v1/chat/completions", {"json": {"model": "assistant"}}),
    ],
    "deep_imports": [
        post("/deep/run", json={"text": "abc"}),
    ],
    "file_response": [
        post("/image/run", json={"name": "other"}),
    ],
    "response_kinds": [
        post("/html/run", json={"title": "Hi"}),
        post("/plain/run", json={"text": "yo"}),
        post("/stream_resp/run", json={"n": 3}),
        post("/stream_resp/run", json={"n": "x"}),
    ],
    "generators": [
        post("/async_gen/run", json={"n": 2}),
        post("/sync_gen/run", json={"n": 5}),
        post("/sync_gen/run", json={"n": 0}),
    ],
    "headers_and_errors": [
        post("/errors/run", json={"mode": "http"}),
        post("/errors/run", json={"mode": "boom"}),
        post("/errors/run", json={"mode": "bad"}),
        post("/errors/run", json={"mode": 1}),
    ],
    "hyphenated": [
        post("/my-pipe/run", json={"text": "abc"}),
    ],
    "json_basic": [
        post("/echo/run", json={"query": "hi"}),
        post("/echo/run", json={"query": "hi", "top_k": 2, "flag": True, "extra": 1}),
        post("/echo/run", json={"query": "hi", "top_k": "many"}),
    ],
    "json_types": [
        post(
            "/custom_types/run",
            json={
                "query": "q",
                "items": [{"name": "x", "qty": 2}, {"name": "y"}],
                "meta": {"k": 1},
            },
        ),
        post("/custom_types/run", json={"query": "q", "mode": "c"}),
        post("/custom_types/run", json={"query": "q", "items": [{"qty": 1}]}),
    ],
    "relative_imports": [
        post("/with_helper/run", json={"name": "Ann", "loud": True}),
    ],
    "string_annotations:quoted": [
        post("/quoted/run", json={"q": "abc"}),
        post("/quoted/run", json={"q": "abc", "n": 7}),
    ],
    "string_annotations+patched": [
        post("/quoted/run", json={"q": "abc", "n": 7}),
        post("/future_ann/run", json={"text": "ab", "times": 2}),
        post("/future_ann/run", json={"times": 2}),
    ],
    "uploads": [
        post(
            "/upload_files/run",
            data={"note": "n1"},
            files=[
                ("files", ("a.txt", b"abc", "text/plain")),
                ("files", ("b.bin", b"0123456789", "application/octet-stream")),
            ],
        ),
        post("/upload_files/run", data={"note": "only"}),
        post("/upload_files/run", json={"note": "json"}),
        post(
            "/upload_one/run",
            data={"tags": ["x", "y"]},
            files=[("files", ("c.txt", b"c", "text/plain"))],
        ),
        post("/upload_one/run", data={"tags": ["x"]}, files=[]),
    ],
}
