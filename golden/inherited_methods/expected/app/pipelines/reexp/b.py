from ...runtime import BasePipelineWrapper


class Base(BasePipelineWrapper):
    skip_mcp = True

    def run_api(self, x: float = 1.5) -> float:
        """Half of x."""
        return x / 2

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> str:
        return f"{model}: {len(messages)} message(s)"
