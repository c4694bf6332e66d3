from fastapi.responses import JSONResponse

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self) -> JSONResponse:
        """Return a JSON body that is not wrapped in {"result": ...}."""
        return JSONResponse(content={"ok": True}, status_code=202)
