from collections.abc import Iterator

from fastapi.responses import StreamingResponse

from ...runtime import BasePipelineWrapper


def rows(n: int) -> Iterator[str]:
    yield "id,name\n"
    for i in range(n):
        yield f"{i},row-{i}\n"


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, n: int = 2) -> StreamingResponse:
        """Stream a small CSV file."""
        return StreamingResponse(rows(n), media_type="text/csv")
