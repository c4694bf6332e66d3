from collections.abc import Generator

from ...runtime import BasePipelineWrapper, get_last_user_message
from hayhooks.open_webui import create_details_tag, create_notification_event, create_status_event


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> Generator:
        question = get_last_user_message(messages) or ""
        return self._stream(question)

    def _stream(self, question: str) -> Generator:
        yield create_status_event("Thinking...")
        yield f"You asked: {question}"
        yield create_notification_event("half way", "success")
        yield create_details_tag("Sources", "Summary", "none")
        yield create_status_event("Done", done=True)
