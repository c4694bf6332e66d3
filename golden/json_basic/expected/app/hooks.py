"""Your extension point: hayhooks-gen created this file once and never touches it again.

``configure(app)`` runs after the generated routes are included: add middleware, exception
handlers, dependencies and extra routers here.
"""

from fastapi import FastAPI


def configure(app: FastAPI) -> None:
    """Customise the generated application (middleware, auth, extra routers, ...)."""
