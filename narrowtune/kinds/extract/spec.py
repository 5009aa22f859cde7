"""The `extract:` section of a task file (options of the extract kind)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ExtractSpec(BaseModel):
    """Options for `kind: extract`; the output shape itself is the task's top-level `schema:`."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    intent: bool = Field(
        default=False,
        description="Also predict an intent label per text (joint intent + slots); the label "
        "column holds it.",
    )
    window_stride: int = Field(
        default=64,
        ge=8,
        description="Token overlap between sliding windows over long texts (capped at half of "
        "model.max_length).",
    )
    baseline: str | None = Field(
        default=None,
        description="Your own rule/regex extractor, 'file.py:function' relative to the task "
        "file: called with one text, returns the output dict. Evaluated as a baseline.",
    )
    viterbi: bool = Field(
        default=True,
        description="Decode span tags with BIO-constrained Viterbi (an I- tag only continues "
        "its own field); false takes the most likely tag per word.",
    )
    intent_weight: float = Field(
        default=1.0, ge=0, description="Weight of the intent / class-field losses beside spans."
    )
