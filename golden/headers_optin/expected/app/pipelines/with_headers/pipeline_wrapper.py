from starlette.datastructures import Headers

from ...runtime import BasePipelineWrapper


def _seen(headers: Headers | None) -> dict:
    if headers is None:
        return {"headers": None}
    return {
        "type": type(headers).__name__,
        "tenant": headers.get("X-Tenant"),
        "multi": headers.getlist("x-multi"),
        "host": headers.get("host"),
    }


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str, headers: Headers | None = None) -> dict:
        """Echo the text and the request headers the wrapper received."""
        return {"text": text, **_seen(headers)}

    def run_chat_completion(
        self, model: str, messages: list[dict], body: dict, headers: Headers | None = None
    ) -> str:
        seen = _seen(headers)
        return f"tenant={seen.get('tenant')} multi={seen.get('multi')} host={seen.get('host')}"

    async def run_response_async(
        self, model: str, input_items: list[dict], body: dict, *, headers: Headers | None = None
    ) -> str:
        return f"response tenant={headers.get('x-tenant') if headers else None}"
