"""The pipeline of stages: discover -> parse -> render -> format. Output stays in memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hayhooks_gen.diagnostics import Diagnostic
from hayhooks_gen.discover import discover
from hayhooks_gen.fmt import format_python
from hayhooks_gen.model import Service
from hayhooks_gen.parse import parse
from hayhooks_gen.render import render


@dataclass(frozen=True)
class Output:
    service: Service
    generated: dict[str, bytes]  # relative path -> content, formatted
    user_owned: dict[str, bytes]  # created once when missing, never overwritten
    warnings: tuple[Diagnostic, ...]  # each in one file of the wrappers folder


def generate(
    wrappers: Path, *, package: str = "app", project_name: str = "hayhooks-service"
) -> Output:
    discovery = discover(wrappers)
    service = parse(discovery, package)
    rendered = render(service, project_name)
    to_format = {p: rendered.generated[p] for p in sorted(rendered.formatted)}
    to_format.update({f"user/{p}": c for p, c in rendered.user_owned.items()})
    formatted = format_python(to_format)
    generated = {p: formatted.get(p, c) for p, c in rendered.generated.items()}
    user_owned = {p: formatted[f"user/{p}"] for p in rendered.user_owned}
    return Output(
        service,
        dict(sorted(generated.items())),
        user_owned,
        discovery.warnings + service.warnings,
    )
