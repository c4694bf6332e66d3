from .base import DocumentedBase


class PipelineWrapper(DocumentedBase):
    def run_api(self, query: str) -> str:
        return "override:" + query
