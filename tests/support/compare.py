"""Normalise and compare OpenAPI documents and HTTP responses: Hayhooks vs a generated service.

Every ``compare_*`` function returns a list of human-readable differences, empty when equal.
Messages name the route and field and give the Hayhooks value first, then the generated one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

# Hayhooks paths the generated service does not serve on purpose (DESIGN.md section 7).
DRAW_PATHS = ["/draw/{pipeline_name}"]
OPENAI_PATHS = [
    "/v1/models",
    "/models",
    "/v1/chat/completions",
    "/chat/completions",
    "/v1/responses",
    "/responses",
    "/v1/files",
    "/files",
]
DELIBERATE_PATHS = [*DRAW_PATHS, *OPENAI_PATHS]
STATUS_PATHS = ["/status", "/status/{pipeline_name}"]

# Response headers that differ per request or per process, or that come from the file system.
# etag and last-modified of a FileResponse derive from the file's mtime; the generated service
# serves a copy of the wrapper folder, so its mtime differs from the original's.
IGNORED_HEADERS = frozenset({"x-request-id", "date", "server", "etag", "last-modified"})

RUN_PATH_RE = re.compile(r"^/([^/]+)/run$")
_REF_PREFIX = "#/components/schemas/"
_MAX_DEPTH = 32
_MAX_DIFFS_PER_VALUE = 40


def _short(value: Any, limit: int = 300) -> str:
    text = (
        json.dumps(value, sort_keys=True, default=repr)
        if not isinstance(value, str)
        else repr(value)
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------
# Generic structural diff


def diff_values(hayhooks: Any, generated: Any, where: str) -> list[str]:
    """Differences between two JSON-like values, reported at the deepest differing key."""
    out: list[str] = []
    _diff(hayhooks, generated, where, out)
    if len(out) > _MAX_DIFFS_PER_VALUE:
        extra = len(out) - _MAX_DIFFS_PER_VALUE
        out = [*out[:_MAX_DIFFS_PER_VALUE], f"{where}: ... and {extra} more differences"]
    return out


_MISSING = object()


def _diff(a: Any, b: Any, where: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            _diff(a.get(key, _MISSING), b.get(key, _MISSING), f"{where}.{key}", out)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{where}[{i}]", out)
        return
    if a is _MISSING and b is _MISSING:
        return
    if type(a) is not type(b) or a != b:
        ha = "<absent>" if a is _MISSING else _short(a)
        gb = "<absent>" if b is _MISSING else _short(b)
        out.append(f"{where}: hayhooks={ha} generated={gb}")


# --------------------------------------------------------------------------------------------
# OpenAPI normalisation


def ref_name(schema: Any) -> str | None:
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref: str = schema["$ref"]
        if ref.startswith(_REF_PREFIX):
            return ref[len(_REF_PREFIX) :]
    return None


def component(openapi: Mapping[str, Any], name: str) -> Any:
    return openapi.get("components", {}).get("schemas", {}).get(name)


def resolve(
    openapi: Mapping[str, Any], schema: Any, _seen: tuple[str, ...] = (), _depth: int = 0
) -> Any:
    """``schema`` with every ``$ref`` to a component inlined (the name kept as ``x-ref``).

    Recursive models are cut at the second visit, as ``{"x-ref": name, "x-recursive": true}``.
    """
    if _depth > _MAX_DEPTH:
        return {"x-too-deep": True}
    if isinstance(schema, list):
        return [resolve(openapi, s, _seen, _depth + 1) for s in schema]
    if not isinstance(schema, dict):
        return schema
    name = ref_name(schema)
    if name is not None:
        if name in _seen:
            return {"x-ref": name, "x-recursive": True}
        target = component(openapi, name)
        if target is None:
            return {"x-ref": name, "x-missing-component": True}
        resolved = resolve(openapi, target, (*_seen, name), _depth + 1)
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        return {"x-ref": name, **resolved, **resolve(openapi, siblings, _seen, _depth + 1)}
    return {k: resolve(openapi, v, _seen, _depth + 1) for k, v in schema.items()}


def operations(openapi: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {path: dict(item) for path, item in openapi.get("paths", {}).items()}


def run_routes(openapi: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{path: operation}`` for every ``POST /{name}/run`` path."""
    return {
        path: item["post"]
        for path, item in openapi.get("paths", {}).items()
        if RUN_PATH_RE.match(path) and isinstance(item, dict) and "post" in item
    }


def pipeline_name(run_path: str) -> str:
    m = RUN_PATH_RE.match(run_path)
    assert m is not None, run_path
    return m.group(1)


def request_content(operation: Mapping[str, Any]) -> dict[str, Any]:
    return dict(operation.get("requestBody", {}).get("content", {}))


def request_schema(
    openapi: Mapping[str, Any], operation: Mapping[str, Any]
) -> tuple[str | None, Any]:
    """(content type, resolved schema) of the first request body content type."""
    content = request_content(operation)
    if not content:
        return None, None
    ctype = next(iter(content))
    return ctype, resolve(openapi, content[ctype].get("schema"))


# --------------------------------------------------------------------------------------------
# OpenAPI comparison


def _compare_schema(
    where: str, oa_h: Mapping[str, Any], s_h: Any, oa_g: Mapping[str, Any], s_g: Any
) -> list[str]:
    diffs: list[str] = []
    name_h, name_g = ref_name(s_h), ref_name(s_g)
    if name_h != name_g:
        diffs.append(f"{where} $ref component: hayhooks={name_h!r} generated={name_g!r}")
    r_h, r_g = resolve(oa_h, s_h), resolve(oa_g, s_g)
    if isinstance(r_h, dict) and isinstance(r_g, dict):
        # Top-level component: properties, required and title first, then anything else.
        props_h = list((r_h.get("properties") or {}).keys())
        props_g = list((r_g.get("properties") or {}).keys())
        if set(props_h) == set(props_g) and props_h != props_g:
            diffs.append(f"{where} property order: hayhooks={props_h} generated={props_g}")
    diffs.extend(diff_values(_strip_refs_top(r_h), _strip_refs_top(r_g), f"{where} schema"))
    return diffs


def _strip_refs_top(schema: Any) -> Any:
    # The top-level component name is reported separately; nested x-ref names stay.
    if isinstance(schema, dict) and "x-ref" in schema:
        return {k: v for k, v in schema.items() if k != "x-ref"}
    return schema


def compare_operation(
    label: str,
    op_h: Mapping[str, Any],
    oa_h: Mapping[str, Any],
    op_g: Mapping[str, Any],
    oa_g: Mapping[str, Any],
) -> list[str]:
    """operationId, summary, description, tags, parameters, request body and responses."""
    diffs: list[str] = []
    for key in ("operationId", "summary", "description", "tags", "deprecated"):
        if op_h.get(key) != op_g.get(key):
            diffs.append(
                f"{label} {key}: hayhooks={_short(op_h.get(key))} generated={_short(op_g.get(key))}"
            )

    params_h = resolve(oa_h, op_h.get("parameters", []))
    params_g = resolve(oa_g, op_g.get("parameters", []))
    diffs.extend(diff_values(params_h, params_g, f"{label} parameters"))

    body_h, body_g = op_h.get("requestBody"), op_g.get("requestBody")
    if (body_h is None) != (body_g is None):
        diffs.append(
            f"{label} requestBody: hayhooks={'present' if body_h else 'absent'} "
            f"generated={'present' if body_g else 'absent'}"
        )
    elif body_h is not None and body_g is not None:
        if body_h.get("required") != body_g.get("required"):
            diffs.append(
                f"{label} requestBody.required: hayhooks={body_h.get('required')} "
                f"generated={body_g.get('required')}"
            )
        ct_h, ct_g = request_content(op_h), request_content(op_g)
        if list(ct_h) != list(ct_g):
            diffs.append(
                f"{label} requestBody content types: hayhooks={list(ct_h)} generated={list(ct_g)}"
            )
        for ctype in [c for c in ct_h if c in ct_g]:
            diffs.extend(
                _compare_schema(
                    f"{label} requestBody[{ctype}]",
                    oa_h,
                    ct_h[ctype].get("schema"),
                    oa_g,
                    ct_g[ctype].get("schema"),
                )
            )

    resp_h: dict[str, Any] = op_h.get("responses", {})
    resp_g: dict[str, Any] = op_g.get("responses", {})
    if sorted(resp_h) != sorted(resp_g):
        diffs.append(
            f"{label} response codes: hayhooks={sorted(resp_h)} generated={sorted(resp_g)}"
        )
    for code in sorted(set(resp_h) & set(resp_g)):
        r_h, r_g = resp_h[code], resp_g[code]
        if r_h.get("description") != r_g.get("description"):
            diffs.append(
                f"{label} responses[{code}].description: hayhooks={r_h.get('description')!r} "
                f"generated={r_g.get('description')!r}"
            )
        c_h: dict[str, Any] = r_h.get("content", {}) or {}
        c_g: dict[str, Any] = r_g.get("content", {}) or {}
        if list(c_h) != list(c_g):
            diffs.append(
                f"{label} responses[{code}] content types: "
                f"hayhooks={list(c_h)} generated={list(c_g)}"
            )
        for ctype in [c for c in c_h if c in c_g]:
            diffs.extend(
                _compare_schema(
                    f"{label} responses[{code}][{ctype}]",
                    oa_h,
                    c_h[ctype].get("schema"),
                    oa_g,
                    c_g[ctype].get("schema"),
                )
            )
        diffs.extend(
            diff_values(
                r_h.get("headers"), r_g.get("headers"), f"{label} responses[{code}].headers"
            )
        )
    return diffs


def compare_paths(oa_h: Mapping[str, Any], oa_g: Mapping[str, Any]) -> list[str]:
    """Path sets (less DELIBERATE_PATHS) and the methods of each shared path."""
    diffs: list[str] = []
    paths_h = set(oa_h.get("paths", {}))
    paths_g = set(oa_g.get("paths", {}))
    only_h = sorted(paths_h - paths_g - set(DELIBERATE_PATHS))
    only_g = sorted(paths_g - paths_h)
    if only_h:
        diffs.append(f"paths only in hayhooks: {only_h}")
    if only_g:
        diffs.append(f"paths only in generated: {only_g}")
    for path in sorted(paths_h & paths_g):
        m_h = sorted(k for k in oa_h["paths"][path] if k != "parameters")
        m_g = sorted(k for k in oa_g["paths"][path] if k != "parameters")
        if m_h != m_g:
            diffs.append(f"{path} methods: hayhooks={m_h} generated={m_g}")
    return diffs


def compare_run_routes(oa_h: Mapping[str, Any], oa_g: Mapping[str, Any]) -> list[str]:
    diffs: list[str] = []
    runs_h, runs_g = run_routes(oa_h), run_routes(oa_g)
    for path in sorted(set(runs_h) & set(runs_g)):
        diffs.extend(compare_operation(f"POST {path}", runs_h[path], oa_h, runs_g[path], oa_g))
    return diffs


def compare_shared_routes(
    oa_h: Mapping[str, Any], oa_g: Mapping[str, Any], paths: list[str]
) -> list[str]:
    """Every operation of ``paths`` that both documents have (missing ones are not reported)."""
    diffs: list[str] = []
    for path in paths:
        item_h = oa_h.get("paths", {}).get(path)
        item_g = oa_g.get("paths", {}).get(path)
        if not item_h or not item_g:
            continue
        for method in sorted(set(item_h) & set(item_g)):
            if method == "parameters":
                continue
            diffs.extend(
                compare_operation(
                    f"{method.upper()} {path}", item_h[method], oa_h, item_g[method], oa_g
                )
            )
    return diffs


def compare_status_routes(oa_h: Mapping[str, Any], oa_g: Mapping[str, Any]) -> list[str]:
    diffs: list[str] = []
    for path in STATUS_PATHS:
        for name, oa in (("hayhooks", oa_h), ("generated", oa_g)):
            if "get" not in oa.get("paths", {}).get(path, {}):
                diffs.append(f"GET {path}: missing in {name}")
    return diffs + compare_shared_routes(oa_h, oa_g, STATUS_PATHS)


def compare_openai_routes(oa_h: Mapping[str, Any], oa_g: Mapping[str, Any]) -> list[str]:
    """OpenAI-compatible routes, only those present on both sides."""
    return compare_shared_routes(oa_h, oa_g, OPENAI_PATHS)


def compare_openapi(oa_h: Mapping[str, Any], oa_g: Mapping[str, Any]) -> list[str]:
    return [
        *compare_paths(oa_h, oa_g),
        *compare_run_routes(oa_h, oa_g),
        *compare_status_routes(oa_h, oa_g),
        *compare_openai_routes(oa_h, oa_g),
    ]


# --------------------------------------------------------------------------------------------
# Requests derived from a schema


class RequestSpec:
    """Keyword arguments for ``httpx.Client.post`` (json, or data + files for multipart)."""

    def __init__(self, content_type: str | None, kwargs: dict[str, Any]) -> None:
        self.content_type = content_type
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"RequestSpec({self.content_type!r}, {self.kwargs!r})"


SAMPLE_FILE = ("sample.txt", b"hello parity\n", "text/plain")


def _non_null(options: list[Any]) -> list[Any]:
    return [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]


def minimal_value(schema: Any, _depth: int = 0) -> Any:
    """A minimal valid value for a resolved schema: str "x", int 1, bool true, [] , {}."""
    if _depth > _MAX_DEPTH or not isinstance(schema, dict):
        return "x"
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            options = _non_null(schema[key]) or schema[key]
            return minimal_value(options[0], _depth + 1)
    if schema.get("allOf"):
        return minimal_value(schema["allOf"][0], _depth + 1)
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), "null")
    if typ == "string":
        return "x"
    if typ == "integer":
        return 1
    if typ == "number":
        return 1
    if typ == "boolean":
        return True
    if typ == "array":
        return []
    if typ == "null":
        return None
    if typ == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {
            name: minimal_value(props.get(name), _depth + 1) for name in schema.get("required", [])
        }
    return "x"


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _is_array(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("type") == "array":
        return True
    return any(_is_array(o) for o in _non_null(schema.get("anyOf", [])))


def _array_items(schema: Any) -> Any:
    if isinstance(schema, dict) and schema.get("type") == "array":
        return schema.get("items")
    for o in _non_null(schema.get("anyOf", [])) if isinstance(schema, dict) else []:
        if _is_array(o):
            return _array_items(o)
    return None


def minimal_request(openapi: Mapping[str, Any], operation: Mapping[str, Any]) -> RequestSpec:
    """A minimal valid request for ``operation``: required fields with simple values.

    multipart/form-data: required scalars as form fields, required arrays as one repeated field,
    and one small file part named ``files`` when the schema has a ``files`` property.
    """
    ctype, schema = request_schema(openapi, operation)
    if ctype is None:
        return RequestSpec(None, {})
    props: dict[str, Any] = (schema or {}).get("properties") or {}
    required: list[str] = (schema or {}).get("required") or []
    if ctype == "multipart/form-data" or ctype == "application/x-www-form-urlencoded":
        data: dict[str, Any] = {}
        for name in required:
            if name == "files":
                continue
            prop = props.get(name)
            if _is_array(prop):
                data[name] = [_form_value(minimal_value(_array_items(prop)))]
            else:
                data[name] = _form_value(minimal_value(prop))
        kwargs: dict[str, Any] = {"data": data}
        if "files" in props:
            kwargs["files"] = [("files", SAMPLE_FILE)]
        elif ctype == "multipart/form-data":
            # Force a multipart body even without a file part.
            kwargs["files"] = []
        return RequestSpec(ctype, kwargs)
    body = {name: minimal_value(props.get(name)) for name in required}
    return RequestSpec(ctype, {"json": body})


# --------------------------------------------------------------------------------------------
# Response comparison


def decoded_body(response: httpx.Response) -> Any:
    ctype = response.headers.get("content-type", "")
    if "json" in ctype.split(";")[0]:
        try:
            return response.json()
        except ValueError:
            return response.content
    return response.content


def comparable_headers(response: httpx.Response) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in response.headers.multi_items():
        k = key.lower()
        if k in IGNORED_HEADERS:
            continue
        out.setdefault(k, []).append(value)
    return {k: sorted(v) for k, v in sorted(out.items())}


def compare_responses(
    label: str, r_h: httpx.Response, r_g: httpx.Response, *, mask: bool = False
) -> list[str]:
    """Status code, content-type, other headers (less IGNORED_HEADERS) and body.

    ``mask`` replaces ids and timestamps that differ per request (see ``mask_volatile``).
    """
    diffs: list[str] = []
    if r_h.status_code != r_g.status_code:
        # Different outcomes: a per-header/per-key diff would be noise; show both answers.
        return [
            f"{label} status: hayhooks={r_h.status_code} generated={r_g.status_code}; "
            f"hayhooks body={_short_bytes(r_h.content)} generated body={_short_bytes(r_g.content)}"
        ]
    ct_h = r_h.headers.get("content-type")
    ct_g = r_g.headers.get("content-type")
    if ct_h != ct_g:
        diffs.append(f"{label} content-type: hayhooks={ct_h!r} generated={ct_g!r}")
    h_h, h_g = comparable_headers(r_h), comparable_headers(r_g)
    h_h.pop("content-type", None)
    h_g.pop("content-type", None)
    if "content-length" in h_h and "content-length" in h_g:
        # Implied by the body comparison; a JSON body with other spacing is still equal.
        h_h.pop("content-length")
        h_g.pop("content-length")
    for key in sorted(set(h_h) | set(h_g)):
        if h_h.get(key) != h_g.get(key):
            diffs.append(f"{label} header {key}: hayhooks={h_h.get(key)} generated={h_g.get(key)}")
    b_h, b_g = decoded_body(r_h), decoded_body(r_g)
    if mask:
        b_h, b_g = mask_volatile(b_h), mask_volatile(b_g)
    if isinstance(b_h, bytes) or isinstance(b_g, bytes):
        if b_h != b_g:
            diffs.append(
                f"{label} body: hayhooks={_short_bytes(b_h)} generated={_short_bytes(b_g)}"
            )
    else:
        diffs.extend(diff_values(b_h, b_g, f"{label} body"))
    return diffs


def _short_bytes(value: Any, limit: int = 400) -> str:
    if not isinstance(value, bytes):
        return _short(value, limit)
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------
# Volatile values (OpenAI-compatible answers carry random ids and a creation time)

_UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Responses API ids (response, message, reasoning, function call, generated call id) and the
# default Files API id: a prefix and random hex digits.
_HEX_ID_RE = r"\b(resp|msg|rs|fc|call)_[0-9a-f]{32}\b|\bfile-[0-9a-f]{24}\b"
_TIME_KEYS = ("created", "created_at")
_VOLATILE_BYTES = [
    (re.compile(rb'"(created|created_at)":\s*\d+'), rb'"\1":<time>'),
    (re.compile(_UUID_RE.encode()), b"<uuid>"),
    (re.compile(_HEX_ID_RE.encode()), b"<hex-id>"),
]


def _mask_text(text: str) -> str:
    return re.sub(_HEX_ID_RE, "<hex-id>", re.sub(_UUID_RE, "<uuid>", text))


def mask_volatile(value: Any) -> Any:
    """Creation times, uuids and random hex ids masked, in JSON values or raw bytes."""
    if isinstance(value, bytes):
        for pattern, repl in _VOLATILE_BYTES:
            value = pattern.sub(repl, value)
        return value
    if isinstance(value, dict):
        return {
            k: "<time>" if k in _TIME_KEYS and isinstance(v, int) else mask_volatile(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_volatile(v) for v in value]
    if isinstance(value, str):
        return _mask_text(value)
    return value
