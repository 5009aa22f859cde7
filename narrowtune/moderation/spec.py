"""The `moderation:` section of a classify task file (pydantic; light, no model code)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from narrowtune.moderation.features import Flag

Outcome = Literal["allow", "block", "review"]
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$")


class ModerationSpec(BaseModel):
    """Options of a moderation task: a classifier whose labels are policy labels plus one label
    meaning "nothing wrong", answering allow, block or send to human review."""

    model_config = ConfigDict(extra="forbid")

    allow_label: str | None = Field(
        default=None,
        description="The label that means nothing is wrong (e.g. 'benign', 'ham'). Setting it "
        "turns moderation on: text normalisation, link features, per-label block/review "
        "thresholds, and allow/block/review outcomes.",
    )
    normalize: bool = Field(
        default=True,
        description="Undo disguises (look-alike letters, zero-width characters, leetspeak, "
        "spaced letters, defanged links) before the model reads a text; reviewers always see "
        "the original.",
    )
    features: bool = Field(
        default=True,
        description="Append what the text links to (look-alike of a protected domain, "
        "shortened link, IP link, wallet address) to the model's input.",
    )
    protected_domains: list[str] = Field(
        default_factory=list,
        description="Your brands' real domains, e.g. ['metamask.io']; links that imitate them "
        "are flagged as 'lookalike_domain'.",
        max_length=1000,
    )
    false_positive_budget: float = Field(
        default=0.01,
        gt=0.0,
        lt=0.5,
        description="Per policy label: at most this share of validation texts without the "
        "label may be blocked for it. Chooses each label's block threshold.",
    )
    review_recall: float = Field(
        default=0.95,
        gt=0.0,
        le=1.0,
        description="Per policy label: the review threshold is the highest that still sends "
        "this share of the label's validation texts to block or review.",
    )
    rules: dict[Flag, Literal["block", "review"]] = Field(
        default_factory=dict,
        description="Outcomes forced by link features whatever the model says, e.g. "
        "{lookalike_domain: block, shortened_link: review}.",
    )
    perturbation_seed: int = Field(
        default=0, description="Seed of the disguised copy of the test set in `eval`."
    )

    @property
    def enabled(self) -> bool:
        return self.allow_label is not None

    @field_validator("protected_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            domain = item.strip().lower().removeprefix("https://").removeprefix("http://")
            domain = domain.removeprefix("www.").rstrip("/")
            if not _DOMAIN.match(domain):
                raise ValueError(f"{item!r} is not a domain name like 'example.com'")
            out.append(domain)
        return out
