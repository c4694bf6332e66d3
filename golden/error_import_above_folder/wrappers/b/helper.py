from ..a import pipeline_wrapper as sibling

SUFFIX = "!" if sibling else "?"
