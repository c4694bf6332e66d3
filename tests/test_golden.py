"""Every golden case generates exactly its committed expected output (or error text)."""

from __future__ import annotations

import pytest

from golden_cases import actual, cases, expected


@pytest.mark.parametrize("case", cases())
def test_golden_case(case: str) -> None:
    want = expected(case)
    assert want is not None, (
        f"golden/{case} has no expected output: run tests/golden_cases.py --refresh {case}"
    )
    got = actual(case)
    if isinstance(want, str) or isinstance(got, str):
        assert got == want
        return
    assert sorted(got) == sorted(want), "generated file set differs"
    for path in sorted(want):
        assert got[path] == want[path], f"{path} differs from golden/{case}/expected/{path}"
