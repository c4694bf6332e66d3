from collections.abc import Iterator

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, n: int = 2) -> Iterator[str]:
        """Yield n chunks."""
        for i in range(n):
            yield f"c{i} "
