"""Rewrite a wrapper file's Hayhooks imports so core names come from the generated runtime.

``from hayhooks import BasePipelineWrapper, streaming_generator`` becomes
``from ...runtime import BasePipelineWrapper`` plus ``from hayhooks import streaming_generator``.
The relative form does not depend on the generated package's name. Everything else in the
file is left byte for byte as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from hayhooks_gen.hayhooks_api import TOP_LEVEL_EXPORTS, is_core
from hayhooks_gen.scope import dotted


@dataclass
class ImportRewriter(cst.CSTTransformer):
    depth: int  # package depth of the file below the pipeline folder (0 for top-level files)
    hayhooks_names: set[str] = field(default_factory=set)
    runtime_names: set[str] = field(default_factory=set)
    problems: list[tuple[cst.CSTNode, str]] = field(default_factory=list)
    changed: bool = False

    def __post_init__(self) -> None:
        super().__init__()

    def on_visit(self, node: cst.CSTNode) -> bool:
        # Imports are statements: never descend into expressions (most of any module).
        if isinstance(node, cst.BaseExpression | cst.Parameters | cst.Decorator | cst.Arg):
            return False
        return super().on_visit(node)

    def _runtime_module(self) -> tuple[list[cst.Dot], cst.Name]:
        # file in app/pipelines/<p>/[sub/...] -> app.runtime
        return [cst.Dot() for _ in range(self.depth + 3)], cst.Name("runtime")

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        for alias in original_node.names:
            name = dotted(alias.name)
            if name and (name == "hayhooks" or name.startswith("hayhooks.")):
                self.hayhooks_names.add(name)
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine]:
        if len(updated_node.body) != 1 or not isinstance(updated_node.body[0], cst.ImportFrom):
            return updated_node
        node = updated_node.body[0]
        if node.relative or node.module is None:
            return updated_node
        module = dotted(node.module)
        if module is None or not (module == "hayhooks" or module.startswith("hayhooks.")):
            return updated_node
        if isinstance(node.names, cst.ImportStar):
            self.problems.append(
                (original_node, f"star import from '{module}': import names explicitly")
            )
            return updated_node
        core: list[cst.ImportAlias] = []
        other: list[cst.ImportAlias] = []
        original = original_node.body[0]
        assert isinstance(original, cst.ImportFrom) and not isinstance(
            original.names, cst.ImportStar
        )
        for alias, original_alias in zip(node.names, original.names, strict=True):
            name = alias.name.value if isinstance(alias.name, cst.Name) else ""
            if module == "hayhooks" and name not in TOP_LEVEL_EXPORTS:
                self.problems.append((original_alias, f"'hayhooks' has no name '{name}'"))
            if is_core(module, name):
                self.runtime_names.add(name)
                core.append(alias.with_changes(comma=cst.MaybeSentinel.DEFAULT))
            else:
                other.append(alias.with_changes(comma=cst.MaybeSentinel.DEFAULT))
                self.hayhooks_names.add(f"{module}.{name}")
        if not core:
            return updated_node
        self.changed = True
        dots, runtime = self._runtime_module()
        lines: list[cst.SimpleStatementLine] = []
        if other:
            lines.append(
                updated_node.with_changes(
                    body=[node.with_changes(names=other, lpar=None, rpar=None)],
                    trailing_whitespace=cst.TrailingWhitespace(),
                )
            )
        runtime_import = cst.ImportFrom(module=runtime, relative=dots, names=core)
        lines.append(updated_node.with_changes(body=[runtime_import]))
        if len(lines) == 1:
            return lines[0]
        # Leading comments stay on the first line only.
        lines[1] = lines[1].with_changes(leading_lines=[])
        return cst.FlattenSentinel(lines)


def mentions_hayhooks(source: bytes) -> bool:
    return b"hayhooks" in source
