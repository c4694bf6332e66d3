from ...runtime import BasePipelineWrapper, get_last_user_message, log


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> str:
        log.info("chat-only request with {} messages", len(messages))
        return f"Echo: {get_last_user_message(messages)}"
