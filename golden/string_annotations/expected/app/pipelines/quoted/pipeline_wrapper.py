from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, q: "str", n: "int | None" = None) -> "dict[str, int]":
        """Count the characters of q."""
        return {q: len(q) if n is None else n}
