from typing import Annotated, Optional, Union

from starlette.datastructures import Headers

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    """The opt-in spelled other ways Hayhooks evaluates to the same `Headers | None`."""

    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str, headers: Optional[Headers] = None) -> dict:
        """Echo the text and one request header."""
        return {"text": text, "tenant": None if headers is None else headers.get("x-tenant")}

    def run_chat_completion(
        self, model: str, messages: list[dict], body: dict, headers: "Headers | None" = None
    ) -> str:
        return f"tenant={None if headers is None else headers.get('x-tenant')}"

    async def run_response_async(
        self,
        model: str,
        input_items: list[dict],
        body: dict,
        *,
        headers: Annotated[Union[None, Headers], "request headers"] = None,
    ) -> str:
        return f"response tenant={headers.get('x-tenant') if headers else None}"
