"""The inference backends a trained model can be loaded on (`--backend`, `api.load(backend=)`)."""

from __future__ import annotations

import os
from enum import StrEnum

from narrowtune.errors import NarrowtuneError


def usable_cores() -> int:
    """The CPUs this process may use, not the host's count: a container pinned to 2 of 64
    cores has 2."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform
        return max(1, os.cpu_count() or 1)


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
