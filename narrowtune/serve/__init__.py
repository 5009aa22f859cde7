"""The HTTP face: a FastAPI app that serves a run, stores predictions and runs the review queue."""

from narrowtune.serve.app import create_app

__all__ = ["create_app"]
