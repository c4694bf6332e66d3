import json

from fastapi import HTTPException

from hayhooks import BasePipelineWrapper, get_input_files, get_last_user_input_text


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_response(self, model: str, input_items: list[dict], body: dict) -> str:
        if body.get("metadata") == {"mode": "http"}:
            raise HTTPException(status_code=409, detail={"why": "conflict"})
        if body.get("metadata") == {"mode": "boom"}:
            raise KeyError("boom")
        files = [f["file_id"] for f in get_input_files(input_items)]
        summary = {
            "items": len(input_items),
            "last_user_text": get_last_user_input_text(input_items),
            "files": files,
            "instructions": body.get("instructions"),
            "extra": body.get("extra"),
            "stream": body.get("stream"),
        }
        return json.dumps(summary, sort_keys=True)
