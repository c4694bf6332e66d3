from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_file_upload(
        self, filename: str | None, content_type: str | None, content: bytes, purpose: str
    ) -> dict:
        raise AssertionError("never called: a_store comes first")

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> str:
        return "b_store chats"
