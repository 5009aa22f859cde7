"""The HTTP face: a FastAPI app that serves one or several models by name (predict, OpenAI-style
chat completions for generative models, hot reload), stores every prediction and runs the
review queue."""

from narrowtune.serve.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
