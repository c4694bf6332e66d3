"""Shared test configuration: makes ``tests/support`` importable and registers its fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from support.fixtures import (  # noqa: E402
    build_case,
    case_wrappers,
    oracle_wrappers,
    server_pair,
)
from support.golden_app import golden_import  # noqa: E402

__all__ = ["build_case", "case_wrappers", "golden_import", "oracle_wrappers", "server_pair"]
