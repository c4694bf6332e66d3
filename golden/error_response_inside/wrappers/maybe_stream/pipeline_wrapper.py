from fastapi.responses import StreamingResponse
from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, q: str) -> StreamingResponse | None:
        """Maybe a stream."""
        return None
