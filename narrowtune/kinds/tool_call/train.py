"""Train kind `tool_call`: LoRA fine-tuning of the causal LM on the successful trajectories.

1. resolve the base model (the bundled Gemma 3 270M by default) and read the tools and policy;
2. keep the successful trajectories (failed ones are evaluated, never trained on) and lay each
   out in narrowtune's chat template: the system prompt with the tools, the requests and tool
   results as user turns, every action (calls, or the text answer of a no-call turn) as an
   assistant turn: the loss is computed on the actions only;
3. train the adapter with the LoRA loop the causal-LM kinds share (`kinds.lm.train.fine_tune`);
4. choose the confidence threshold on validation: decode the first action of each validation
   item and take the lowest threshold at which the calls left to execute are at least
   `target_precision` right (AST match); calls below it are escalated, never executed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from narrowtune.data import Example
from narrowtune.kinds.lm.base import base_name, is_bundled
from narrowtune.kinds.lm.causal import base_card_notes, load_base
from narrowtune.kinds.lm.train import encode_examples, fine_tune, recipe_for
from narrowtune.kinds.tool_call.format import template_messages
from narrowtune.kinds.tool_call.metrics import ast_match
from narrowtune.kinds.tool_call.model import (
    Decision,
    ToolCallConfig,
    ToolCallError,
    ToolCallModel,
    Turn,
)
from narrowtune.kinds.tool_call.spec import toolset_of
from narrowtune.kinds.tool_call.tools import Toolset, read_tools
from narrowtune.kinds.training import seed_everything
from narrowtune.progress import ProgressFn

if TYPE_CHECKING:
    from narrowtune.task import Task


def tools_of(example: Example, declared: Toolset) -> Toolset:
    own = example.target.get("tools")
    return Toolset(read_tools(own, "tools"), declared.confirm) if own else declared


def first_turn(example: Example, declared: Toolset) -> Turn:
    """The example's first decision: the conversation up to its first action."""
    messages = example.target["messages"]
    first = next(i for i, m in enumerate(messages) if m["role"] == "assistant")
    return Turn(list(messages[:first]), tools_of(example, declared))


def laid_out(
    model_system: str, examples: list[Example], declared: Toolset, detail: str = "signatures"
) -> list[Example]:
    """The examples as template conversations, the system prompt (with its tools) first."""
    out = []
    for ex in examples:
        tools = tools_of(ex, declared)
        system = f"{model_system}\n\n{tools.prompt(detail)}".strip()
        messages = [
            {"role": "system", "content": system},
            *template_messages(ex.target["messages"]),
        ]
        out.append(Example(ex.text, source=ex.source, row=ex.row, target={"messages": messages}))
    return out


def correct(decision: Decision, example: Example) -> bool:
    calls = [(c.name, c.arguments) for c in decision.calls]
    return ast_match(calls, example.target["expected"])


def choose_threshold(
    confidences: list[float], right: list[bool], target: float
) -> tuple[float, str]:
    """The lowest threshold at which executed calls are at least `target` right on validation
    (each call scored with its turn), and why."""
    if not confidences:
        return 0.0, "no calls on validation: threshold 0"
    pairs = sorted(zip(confidences, right))
    for i, (value, _) in enumerate(pairs):
        kept = [ok for _, ok in pairs[i:]]
        if sum(kept) / len(kept) >= target:
            return round(value, 6), (
                f"chosen on validation: {len(kept)} of {len(pairs)} calls kept, "
                f"{sum(kept) / len(kept):.0%} right (target {target:.0%})"
            )
    top = pairs[-1][0]
    return round(top + 1e-6, 6), (
        f"no threshold reaches {target:.0%} right on validation: every call is escalated"
    )


def train(
    task: Task,
    train: list[Example],
    validation: list[Example],
    *,
    progress: ProgressFn | None = None,
) -> ToolCallModel:
    spec = task.tool_call
    declared = toolset_of(task)
    successful = [ex for ex in train if ex.target["success"]]
    if not successful:
        raise ToolCallError("no successful training trajectories to learn from")
    if not validation:
        raise ToolCallError("no validation examples: early stopping and the threshold need them")
    seed_everything(task.seed)
    name = base_name(task)
    lm, tokenizer, _ = load_base(name)
    device = next(lm.parameters()).device
    rows, _, _ = encode_examples(
        tokenizer,
        laid_out(spec.system, successful, declared, spec.prompt_tools),
        "",
        spec.max_length,
        spec.overlong,
        section="tool_call",
    )
    held_out = validation[: spec.validation_limit] if spec.validation_limit else validation
    val_ok = [ex for ex in held_out if ex.target["success"]] or held_out
    val_rows, _, _ = encode_examples(
        tokenizer,
        laid_out(spec.system, val_ok, declared, spec.prompt_tools),
        "",
        spec.max_length,
        "truncate",
    )
    if not rows:
        raise ToolCallError("every training example was dropped as too long (tool_call.overlong)")
    recipe = recipe_for(spec, task)
    done = fine_tune(
        lm, tokenizer, rows, val_rows, recipe, base=name, section="tool_call", progress=progress
    )
    config = ToolCallConfig(
        base=name if is_bundled(name) else str(Path(name).expanduser().resolve()),
        system=spec.system,
        tools=[t.openai() for t in declared.tools],
        confirm=sorted(declared.confirm),
        no_call=spec.policy.no_call,
        prompt_tools=spec.prompt_tools,
        max_new_tokens=spec.max_new_tokens,
        max_length=spec.max_length,
        lora=spec.lora.model_dump(),
        steps=done.steps,
        epochs=done.epochs,
        train_examples=len(rows),
        failed_trajectories_skipped=len(train) - len(successful),
        validation_loss_before=round(done.loss_before, 5),
        validation_loss_after=round(done.loss_after, 5),
        train_tokens_per_s=done.tokens_per_s,
        card_notes=[
            *base_card_notes(name),
            f"Validation loss {done.loss_before:.3f} before fine-tuning, "
            f"{done.loss_after:.3f} after ({done.steps} steps on {device}; best checkpoint kept).",
        ],
    )
    model = ToolCallModel(done.merged, tokenizer, config, adapter=(done.state, done.adapter_config))
    if spec.threshold == "auto":
        decisions = model.decide([first_turn(ex, declared) for ex in held_out])
        confidences, right = [], []
        for decision, ex in zip(decisions, held_out):
            ok = correct(decision, ex)
            for call in decision.calls:
                if call.name not in declared.confirm:
                    confidences.append(call.confidence)
                    right.append(ok)
        config.threshold, config.threshold_note = choose_threshold(
            confidences, right, spec.target_precision
        )
    else:
        config.threshold, config.threshold_note = float(spec.threshold), "set in the task"
    return model
