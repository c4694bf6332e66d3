"""Import modules of a golden service (``golden/json_basic/expected``) in the test process.

The service's package is ``app``: the golden folder goes on ``sys.path``, ``app`` modules
imported before are set aside, and those the test imports are forgotten when it ends.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

SERVICE = Path(__file__).resolve().parents[2] / "golden/json_basic/expected"

ImportFn = Callable[[str], ModuleType]


def _app_modules() -> list[str]:
    return [name for name in sys.modules if name == "app" or name.startswith("app.")]


@pytest.fixture
def golden_import(monkeypatch: pytest.MonkeyPatch) -> Iterator[ImportFn]:
    """``golden_import("app.runtime")``: that module, freshly imported from the golden service."""
    for name in _app_modules():
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(SERVICE))
    yield importlib.import_module
    for name in _app_modules():
        del sys.modules[name]
