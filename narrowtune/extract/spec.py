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
        default=64, ge=8, description="Token overlap between sliding windows over long texts."
    )
