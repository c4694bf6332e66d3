"""`hayhooks-gen inspect`: what would be generated, as rows for a table or JSON."""

from __future__ import annotations

from typing import Any

from hayhooks_gen.model import ReturnKind, Service
from hayhooks_gen.resolve import ref_qualname


def describe(service: Service) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for p in service.pipelines:
        run = p.run
        kind = (run.return_kind or ReturnKind.JSON) if run else None
        response_class = None
        if run is not None and run.returns is not None:
            if kind in (ReturnKind.RESPONSE, ReturnKind.IMPORTED) and run.returns.refs:
                # IMPORTED: the class, a Response subclass or not (known when imported)
                response_class = ref_qualname(run.returns.refs[0])
            elif kind in (ReturnKind.STREAM, ReturnKind.SSE):
                response_class = "starlette.responses.StreamingResponse"
            else:
                response_class = "fastapi.responses.JSONResponse"
        rows.append(
            {
                "pipeline": p.name,
                "methods": list(p.implemented),
                "route": f"POST /{p.name}/run" if run else None,
                "run_method": run.name if run else None,
                "request_fields": [
                    {
                        "name": f.name,
                        "annotation": f.annotation.source,
                        "default": f.default.source if f.default else None,
                        "required": f.default is None,
                    }
                    for f in (run.params if run else ())
                ],
                "body": ("multipart/form-data" if run.requires_files else "application/json")
                if run
                else None,
                "response_kind": kind.value if kind else None,
                "response_class": response_class,
                "returns": run.returns.source if run and run.returns else None,
                "skip_mcp": p.skip_mcp,
                "skip_a2a": p.skip_a2a,
                "a2a_card": p.a2a_card,
            }
        )
    return rows


TABLE_HEADERS = ("pipeline", "route", "method", "request fields", "body", "response", "class")


def table_cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The cells of ``inspect``'s table, one list per pipeline, in TABLE_HEADERS order."""
    return [
        [
            r["pipeline"],
            r["route"] or "-",
            r["run_method"] or ",".join(r["methods"]),
            ", ".join(
                f"{f['name']}: {f['annotation']}" + ("" if f["required"] else "?")
                for f in r["request_fields"]
            )
            or "-",
            r["body"] or "-",
            r["response_kind"] or "-",
            (r["response_class"] or "-").rsplit(".", 1)[-1],
        ]
        for r in rows
    ]


def table(rows: list[dict[str, Any]]) -> str:
    """The table as plain text, columns padded with spaces."""
    body = table_cells(rows)
    widths = [max(len(x) for x in col) for col in zip(TABLE_HEADERS, *body, strict=False)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()
        for row in [list(TABLE_HEADERS), *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
