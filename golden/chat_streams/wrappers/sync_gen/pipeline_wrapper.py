from collections.abc import Generator

from fastapi import HTTPException

from hayhooks import BasePipelineWrapper, get_last_user_message


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> Generator:
        mode = body.get("mode")
        if mode == "http":
            raise HTTPException(status_code=418, detail="teapot")
        if mode == "boom":
            raise ValueError("boom")
        if mode == "dict":
            return {"not": "supported"}
        if mode == "text":
            return f"text for {model}"
        return self._words(get_last_user_message(messages) or "", fail=mode == "late")

    def _words(self, text: str, fail: bool) -> Generator[str, None, None]:
        for i, word in enumerate(text.split()):
            if fail and i == 1:
                raise RuntimeError("late failure")
            yield word if i == 0 else f" {word}"
