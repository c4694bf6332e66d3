from fastapi import HTTPException

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, mode: str = "ok") -> dict:
        """Succeed or fail in the way selected by mode.

        Args:
            mode: "ok", "http" (HTTPException), "boom" (ValueError) or "bad" (wrong return type).
        """
        if mode == "http":
            raise HTTPException(status_code=403, detail={"custom": "detail"}, headers={"x-custom": "1"})
        if mode == "boom":
            raise ValueError("boom")
        if mode == "bad":
            return "not a dict"  # type: ignore[return-value]
        return {"ok": True}
