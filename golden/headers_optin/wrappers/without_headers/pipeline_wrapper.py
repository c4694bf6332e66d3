from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    async def run_chat_completion_async(self, model: str, messages: list[dict], body: dict) -> str:
        # No headers parameter: the routes must not pass one (it would be a TypeError).
        return f"no headers for {model}; body keys {sorted(body)}"
