from collections.abc import Generator

from hayhooks import BasePipelineWrapper, get_last_user_input_text


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_response(self, model: str, input_items: list[dict], body: dict) -> Generator:
        text = get_last_user_input_text(input_items) or "nothing"
        for word in text.split():
            yield word.upper()

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> str:
        return "chat works too"
