"""Kinds are plug-ins: each module implements `train`, `load` and a Model (see base.py)."""

from __future__ import annotations

import importlib
from typing import cast

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import Generation, GenerativeModel, Kind, Model, Prediction

MODULES = {
    "classify": "narrowtune.kinds.classify",
    "extract": "narrowtune.kinds.extract",
    "generate": "narrowtune.kinds.generate",
}


def get_kind(name: str) -> Kind:
    """The module implementing kind `name` (imported on first use: kinds are heavy)."""
    if name not in MODULES:
        raise NarrowtuneError(f"unknown kind '{name}'; known kinds: {', '.join(MODULES)}")
    return cast(Kind, importlib.import_module(MODULES[name]))


__all__ = ["MODULES", "Generation", "GenerativeModel", "Kind", "Model", "Prediction", "get_kind"]
