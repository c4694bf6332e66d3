"""Golden cases: ``golden/<case>/wrappers`` in, ``golden/<case>/expected`` (or
``expected_error.txt``) out.

Refresh expected output only on purpose, then read the diff before committing:

    python tests/golden_cases.py --refresh [CASE ...]
    git diff -- golden
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path, PurePath

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden"
sys.path.insert(0, str(ROOT / "generator"))

from hayhooks_gen.build import generate  # noqa: E402
from hayhooks_gen.diagnostics import BuildError  # noqa: E402
from hayhooks_gen.emit import MANIFEST, manifest_bytes  # noqa: E402


def cases() -> list[str]:
    return sorted(p.parent.name for p in GOLDEN.glob("*/wrappers"))


def actual(case: str) -> dict[str, bytes] | str:
    """The full output tree of a case, or its error text."""
    try:
        output = generate(GOLDEN / case / "wrappers")
    except BuildError as exc:
        return "".join(d.render(PurePath("wrappers")) + "\n" for d in exc.diagnostics)
    tree = dict(output.generated)
    tree.update(output.user_owned)
    tree[MANIFEST] = manifest_bytes(output)
    return tree


def expected(case: str) -> dict[str, bytes] | str | None:
    error = GOLDEN / case / "expected_error.txt"
    if error.is_file():
        return error.read_text(encoding="utf-8")
    folder = GOLDEN / case / "expected"
    if not folder.is_dir():
        return None
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def refresh(case: str) -> None:
    result = actual(case)
    folder = GOLDEN / case / "expected"
    error = GOLDEN / case / "expected_error.txt"
    shutil.rmtree(folder, ignore_errors=True)
    error.unlink(missing_ok=True)
    if isinstance(result, str):
        error.write_text(result, encoding="utf-8")
        return
    for rel, content in result.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] != "--refresh":
        sys.exit("usage: python tests/golden_cases.py --refresh [CASE ...]")
    for name in args[1:] or cases():
        refresh(name)
        print(f"refreshed {name}")
