"""Located build errors, reported compiler style: ``path:line:col: error: message``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in the input, located in a file relative to the wrappers folder."""

    path: str
    line: int
    col: int
    message: str
    level: str = "error"  # or "warning": the build goes on

    def render(self, root: PurePath | None = None) -> str:
        """``root/path:line:col: error: message``; root is the wrappers folder as typed."""
        path = (root / self.path).as_posix() if root is not None else self.path
        return f"{path}:{self.line}:{self.col}: {self.level}: {self.message}"


class BuildError(Exception):
    """Raised by a stage when the input cannot be turned into a service; carries every problem."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(set(diagnostics))
        super().__init__("\n".join(d.render() for d in self.diagnostics))


class UsageError(Exception):
    """Bad command-line usage or an output folder the generator refuses to touch (exit code 2)."""
