from typing import Any, Literal

from pydantic import BaseModel

from ...runtime import BasePipelineWrapper

DEFAULT_MODE = "a"


class Item(BaseModel):
    name: str
    qty: int = 1


class Out(BaseModel):
    query: str
    mode: str
    mode2: str
    names: list[str]
    total_qty: int
    meta: dict[str, Any] | None = None


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(
        self,
        query: str,
        mode: Literal["a", "b"] = "a",
        items: list[Item] = [],
        meta: dict[str, Any] | None = None,
        mode2: str = DEFAULT_MODE,
    ) -> Out:
        """Summarise a list of typed items.

        :param query: The query text.
        :param mode: Processing mode, "a" or "b".
        :param items: Items to count.
        :returns: A summary of the request.
        """
        # Hayhooks passes nested models as dicts (model_dump); accept both forms.
        parsed = [Item.model_validate(i) if isinstance(i, dict) else i for i in items]
        return Out(
            query=query,
            mode=mode,
            mode2=mode2,
            names=[i.name for i in parsed],
            total_qty=sum(i.qty for i in parsed),
            meta=meta,
        )
