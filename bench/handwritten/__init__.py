"""Hand-written FastAPI apps serving the bench wrappers: ``app`` (same surface) and ``bare``."""
