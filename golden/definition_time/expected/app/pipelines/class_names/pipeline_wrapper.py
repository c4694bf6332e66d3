from typing import Literal

from pydantic import BaseModel

from ...runtime import BasePipelineWrapper

LIMIT = 1


class PipelineWrapper(BasePipelineWrapper):
    """Names of the class body, which the method's defaults and annotations see first."""

    LIMIT = 5
    SCALE = 10
    Mode = Literal["fast", "exact"]

    class Query(BaseModel):
        text: str
        weight: float = 1.0

    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, q: Query, mode: Mode = "fast", k: int = LIMIT, scale: int = SCALE) -> dict:
        """Score a query.

        Args:
            q: The query.
            mode: How hard to try.
            k: How many results (the class's LIMIT, not the module's).
            scale: A class-only constant.
        """
        return {"text": q.text, "weight": q.weight, "mode": mode, "k": k, "scale": scale}
