from collections.abc import Generator

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, n: int = 3) -> Generator[str, None, None]:
        """Stream n text chunks."""
        for i in range(n):
            yield f"chunk-{i}"
