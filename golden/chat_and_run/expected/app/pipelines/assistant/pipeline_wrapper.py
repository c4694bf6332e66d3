from ...runtime import BasePipelineWrapper, get_last_user_message, log


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, question: str) -> str:
        """Answer a question."""
        return f"Answer to: {question}"

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> str:
        question = get_last_user_message(messages)
        log.info("chat request for model {}", model)
        return f"Answer to: {question}"
