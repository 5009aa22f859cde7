"""Kind `tool_call`: choose the action for a request (which declared tool, with what arguments,
or no call) with a LoRA-tuned small causal LM, decoded inside a grammar of the tools.

This module is the plug-in declaration only (light: no torch). The tools and policy are
`spec.py` and `tools.py`, the action format `format.py`, rows and trajectories `data.py`, the
model `model.py`, its training `train.py` (the LoRA loop, chat template, base model and grammar
code are shared with kind `generate` through `narrowtune.kinds.lm`), the AST match
`metrics.py`. The evaluation against the baselines is `narrowtune.evaluate.tool_call`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from narrowtune.kinds.base import AuditPolicy, CardSpec, Kind
from narrowtune.kinds.tool_call.spec import ToolCallSpec

if TYPE_CHECKING:
    from narrowtune.task import Task


def audit_encoder(task: Task) -> str:
    """Text checks embed requests with the default encoder (`model.base` is a causal LM)."""
    from narrowtune.task import DEFAULT_BASE

    return DEFAULT_BASE


def settle(task: Task) -> None:
    """The tools load and the policy names declared tools (ValueError naming the problem)."""
    from narrowtune.kinds.tool_call.spec import toolset_of

    toolset_of(task)


KIND = Kind(
    name="tool_call",
    summary="choose the tool call (or none) for a request; arguments always valid (LoRA LM)",
    metrics=("ast_accuracy", "action_accuracy", "irrelevance_accuracy"),
    trainer="narrowtune.kinds.tool_call.train:train",
    loader="narrowtune.kinds.tool_call.model:load",
    evaluator="narrowtune.evaluate.tool_call:evaluate",
    section="tool_call",
    spec=ToolCallSpec,
    reader="narrowtune.kinds.tool_call.data:read_examples",
    labeled=False,
    text_column="request",
    settle=settle,
    audit=AuditPolicy(skip=frozenset({"long_texts"}), encoder=audit_encoder),
    card=CardSpec(
        limits="A narrow tool caller for these tools only. Calls below the confidence "
        "threshold are escalated and calls to confirm-only tools wait for a person; "
        "neither is executed by narrowtune. Retrain when the tools change."
    ),
)
