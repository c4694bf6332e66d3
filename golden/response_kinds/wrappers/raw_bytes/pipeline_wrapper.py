from fastapi.responses import Response

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self) -> Response:
        """Return raw bytes with a custom status code and header."""
        return Response(
            content=b"\x00\x01binary",
            media_type="application/octet-stream",
            status_code=201,
            headers={"x-custom": "yes"},
        )
