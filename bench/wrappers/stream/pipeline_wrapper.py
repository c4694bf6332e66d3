from collections.abc import Generator

from hayhooks import BasePipelineWrapper

CHUNKS = 10_000


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, count: int = CHUNKS) -> Generator[str, None, None]:
        """Stream short text chunks.

        Args:
            count: How many chunks to stream.
        """
        for i in range(min(count, CHUNKS)):
            yield f"chunk {i}\n"
