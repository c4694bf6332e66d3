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
    # Request headers sent after the fixed ones (a name may repeat).
    headers: tuple[tuple[str, str], ...] = ()

    def label(self) -> str:
        shown = {k: v for k, v in self.kwargs.items() if k != "files"}
        if "files" in self.kwargs:
            files = self.kwargs["files"]
            items = files.items() if isinstance(files, dict) else files
            shown["files"] = [(name, f[0], len(f[1])) for name, f in items]
        if self.headers:
            shown["headers"] = list(self.headers)
        return f"{self.method} {self.path} {shown}"


def post(path: str, **kwargs: Any) -> ExtraRequest:
    return ExtraRequest("POST", path, kwargs)


def _chat(
    model: str,
    content: str,
    *,
    stream: bool = False,
    path: str = "/v1/chat/completions",
    headers: tuple[tuple[str, str], ...] = (),
    **extra: Any,
) -> ExtraRequest:
    """A chat completion request; ``extra`` keys go into the body as they are."""
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return ExtraRequest("POST", path, {"json": body}, mask_volatile=True, headers=headers)


def _chats(model: str, content: str, **extra: Any) -> list[ExtraRequest]:
    """The same chat request without and with ``stream``."""
    return [_chat(model, content, **extra), _chat(model, content, stream=True, **extra)]


def _response(
    model: str,
    input_value: Any = None,
    *,
    stream: bool = False,
    path: str = "/v1/responses",
    headers: tuple[tuple[str, str], ...] = (),
    **extra: Any,
) -> ExtraRequest:
    """A Responses API request (``input`` left out when None); ``extra`` keys go into the body."""
    body: dict[str, Any] = {"model": model}
    if input_value is not None:
        body["input"] = input_value
    if stream:
        body["stream"] = True
    body.update(extra)
    return ExtraRequest("POST", path, {"json": body}, mask_volatile=True, headers=headers)


def _responses(model: str, input_value: Any = None, **extra: Any) -> list[ExtraRequest]:
    """The same Responses API request without and with ``stream``."""
    return [
        _response(model, input_value, **extra),
        _response(model, input_value, stream=True, **extra),
    ]


def _upload(
    purpose: str | None,
    file: tuple[str, bytes, str] | None = ("notes.txt", b"some notes\n", "text/plain"),
    *,
    path: str = "/v1/files",
) -> ExtraRequest:
    """A Files API upload (multipart: ``file`` and ``purpose``; either may be left out)."""
    kwargs: dict[str, Any] = {"data": {} if purpose is None else {"purpose": purpose}}
    kwargs["files"] = {} if file is None else {"file": file}
    return ExtraRequest("POST", path, kwargs, mask_volatile=True)


MODELS = [
    ExtraRequest("GET", "/v1/models", mask_volatile=True),
    ExtraRequest("GET", "/models", mask_volatile=True),
]

# A list input with two user messages (one with content parts and a file), as OpenAI sends it.
RESPONSE_ITEMS = [
    {"type": "message", "role": "system", "content": "be brief"},
    {"type": "message", "role": "user", "content": "first question"},
    {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "second question"},
            {"type": "input_file", "file_id": "file-abc"},
        ],
    },
]


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
        *MODELS,
        _chat("assistant", "hi"),
        _chat("chat_only", "yo"),
        _chat("chat_only", "yo", path="/chat/completions"),
        _chat("chat_only", "yo", stream=True, path="/chat/completions"),
        _chat("nope", "x"),
        _chat("nope", "x", stream=True),
        _chat("assistant", "hi", stream=True),
        _chat("assistant", "hi", temperature=0.2, user="u1"),
        ExtraRequest("POST", "/v1/responses", {"json": {"model": "assistant", "input": "hi"}}),
        _response("chat_only", "hi", stream=True, path="/responses"),
        _response("nope", "hi"),
        ExtraRequest("POST", "/v1/chat/completions", {"json": {"model": "assistant"}}),
        ExtraRequest("POST", "/v1/chat/completions", {"json": {"messages": []}}),
        ExtraRequest(
            "POST",
            "/v1/chat/completions",
            {"content": b"{not json"},
            headers=(("content-type", "application/json"),),
        ),
        ExtraRequest("POST", "/v1/responses", {"json": {"input": "no model"}}),
        # No pipeline implements run_file_upload: a file object is answered, nothing is kept.
        _upload("assistants"),
        _upload("assistants", path="/files"),
        _upload("assistants", ("", b"", "application/octet-stream")),
        _upload(None),
        _upload("assistants", None),
    ],
    "chat_streams": [
        *MODELS,
        *_chats("sync_gen", "a b c"),
        *_chats("sync_gen", "a b c", mode="late"),
        *_chats("sync_gen", "a b c", mode="text"),
        *_chats("sync_gen", "x", mode="dict"),
        *_chats("sync_gen", "x", mode="http"),
        *_chats("sync_gen", "x", mode="boom"),
        *_chats("async_gen", "x y"),
        *_chats("async_gen", "x y", finish=True),
        *_chats("async_gen", "x y", temperature=0),
        *_chats("agen_function", "x"),
        *_chats("run_only", "x"),
        _chat("sync_gen", "via alias", stream=True, path="/chat/completions"),
        *_responses("sync_gen", "x"),
        _response("nope"),
        post("/run_only/run", json={"text": "abc"}),
        post("/sync_gen/run", json={}),
        _upload("fine-tune"),
    ],
    "chat_events": [
        *MODELS,
        *_chats("webui", "what?"),
        *_chats("webui_async", "what?"),
        *_responses("webui_async", "what?"),
        *_responses("webui", "what?"),
    ],
    "file_upload": [
        *MODELS,
        _upload("assistants"),
        _upload("object", ("data.bin", bytes(range(256)), "application/octet-stream")),
        _upload("assistants", path="/files"),
        _upload("http"),
        _upload("boom"),
        _upload("bad"),
        _upload("invalid"),
        _upload(None),
        post("/a_store/run", json={"file_id": "file-1"}),
        post("/a_store/run", json={"file_id": "file-2"}),
        post("/a_store/run", json={"file_id": "file-9"}),
        *_chats("b_store", "hello"),
        *_chats("a_store", "hello"),
    ],
    "headers_optin": [
        ExtraRequest(
            "POST",
            "/with_headers/run",
            {"json": {"text": "t"}},
            headers=(("X-Tenant", "acme"), ("x-multi", "1"), ("x-multi", "2")),
        ),
        post("/with_headers/run", json={"text": "t"}),
        # A body key named like the parameter is not a request field: the real headers win.
        post("/with_headers/run", json={"text": "t", "headers": {"x-tenant": "body"}}),
        _chat(
            "with_headers",
            "hi",
            headers=(("X-Tenant", "acme"), ("x-multi", "1"), ("x-multi", "2")),
        ),
        _chat("with_headers", "hi"),
        _chat("with_headers", "hi", stream=True, headers=(("x-tenant", "acme"),)),
        *_chats("without_headers", "hi"),
        _response("with_headers", "hi", headers=(("x-tenant", "acme"),)),
        _response("with_headers", "hi"),
        _response("without_headers", "hi"),
        ExtraRequest(
            "POST", "/other_spellings/run", {"json": {"text": "t"}}, headers=(("x-tenant", "acme"),)
        ),
        _chat("other_spellings", "hi", headers=(("x-tenant", "acme"),)),
        _response("other_spellings", "hi", headers=(("x-tenant", "acme"),)),
    ],
    "haystack_streaming": [
        *MODELS,
        post("/sync_stream/run", json={"prompt": "stream these words"}),
        *_chats("sync_stream", "stream these words"),
        *_chats("async_stream", "stream these words"),
        *_responses("async_stream", "stream these words"),
        *_responses("sync_stream", "stream these words"),
    ],
    "responses_api": [
        *MODELS,
        *_responses("resp_text", "plain string"),
        *_responses("resp_text", RESPONSE_ITEMS),
        *_responses("resp_text"),
        _response("resp_text", "x", instructions="be kind", extra=[1, 2], temperature=0.5),
        _response("resp_text", "x", path="/responses"),
        *_responses("resp_text", "x", metadata={"mode": "http"}),
        *_responses("resp_text", "x", metadata={"mode": "boom"}),
        *_responses("resp_stream", "alpha beta"),
        *_responses("resp_sync_gen", "alpha beta"),
        _response("resp_sync_gen", RESPONSE_ITEMS, stream=True),
        *_chats("resp_sync_gen", "hi"),
        *_chats("resp_text", "hi"),
        _response("nope", "x", stream=True),
        ExtraRequest("POST", "/v1/responses", {"json": {"model": "resp_text", "input": 5}}),
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
        post("/sibling_resp/run", json={}),
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
    "inherited_methods": [
        post("/inherit/run", json={"q": "hi", "item": {"name": "x"}}),
        post("/inherit/run", json={"q": "hi", "item": {"label": "x"}}),
        post("/override/run", json={"q": "ab", "times": 3}),
        post("/override/run", json={"q": "ab"}),
        post("/pkgbase/run", json={"n": 21}),
        post("/reexp/run", json={}),
        post("/reexp/run", json={"x": 5}),
        *MODELS,
        _chat("reexp", "hi"),
        _chat("reexp", "hi", stream=True),
        _chat("inherit", "hi"),
    ],
    "definition_time": [
        post("/class_names/run", json={"q": {"text": "t"}}),
        post("/class_names/run", json={"q": {"text": "t", "weight": 2}, "mode": "exact", "k": 1}),
        post("/class_names/run", json={"q": {"text": "t"}, "mode": "slow"}),
        post("/rebound/run", json={}),
        post("/rebound/run", json={"pair": [2, "b"], "empty": [1, 2], "upper": []}),
        post("/rebound/run", json={"pair": [2]}),
        post("/inherited_doc/run", json={"query": "q"}),
        post("/loop_bound/run", json={}),
        post("/loop_bound/run", json={"step": 5}),
    ],
    "outside_classes": [
        post("/usage/run", json={}),
        post("/usage/run", json={"prompt_tokens": 5}),
        post("/derived/run", json={"note": "n"}),
        post("/derived/run", json={}),
    ],
    "var_keyword": [
        post("/options/run", json={"query": "q", "kwargs": {"a": 1}}),
        post("/options/run", json={"query": "q", "top_k": 1, "kwargs": None}),
        post("/options/run", json={"query": "q"}),
        post("/options/run", json={"query": "q", "kwargs": 5, "extra": 1}),
        post("/extras/run", json={"extras": [1, 2]}),
        post("/extras/run", json={"label": "y", "extras": []}),
        post("/extras/run", json={"extras": "no"}),
        post("/typed/run", json={"items": {"name": "n", "size": 4}}),
        post("/typed/run", json={"items": {"size": 4}}),
        post("/typed/run", json={}),
        post("/form/run", data={"meta": "m"}, files=[("files", ("a.txt", b"abc", "text/plain"))]),
        post("/form/run", data={"meta": "m"}),
        post("/form/run", files=[("files", ("a.txt", b"abc", "text/plain"))]),
    ],
    "relative_imports": [
        post("/with_helper/run", json={"name": "Ann", "loud": True}),
    ],
    "sse_annotation+patched": [
        post("/countdown/run", json={}),
        post("/countdown/run", json={"n": 3}),
        post("/countdown/run", json={"n": 0}),
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
