"""The inference backends a trained model can be loaded on (`--backend`, `api.load(backend=)`)."""

from __future__ import annotations

from enum import StrEnum

from narrowtune.errors import NarrowtuneError


class Backend(StrEnum):
    """torch; onnx or onnx-int8 (classify); llamacpp (generate, GGUF). Which kind runs on
    which backend is the kind's to say when it loads; this is only the list of names."""

    TORCH = "torch"
    ONNX = "onnx"
    ONNX_INT8 = "onnx-int8"
    LLAMACPP = "llamacpp"

    @classmethod
    def parse(cls, value: str) -> Backend:
        """The backend named `value`; NarrowtuneError naming the choices for any other."""
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(backend.value for backend in cls)
            raise NarrowtuneError(f"unknown backend '{value}'; choose one of {choices}") from None
