"""Evaluate kind `tool_call`: the fine-tuned tool caller against its baselines, on the first
action of every test item (single-turn requests and trajectories, successful or failed).

Metrics per system:
- `ast_accuracy`: BFCL-style AST match of the turn's calls (function, every required argument,
  allowed values and types; no call where none is expected), overall and per category
  (`category.<name>`);
- `action_accuracy`: the right functions called (or none), arguments aside;
- `exact_arguments`: among items where the right functions were called, the arguments match too;
- `irrelevance_accuracy`: items that must get no call, answered without one;
- `schema_valid`: calls whose arguments validate against their tool's JSON Schema;
- `unconfirmed_executions`: calls to confirm-only tools that were marked to execute (must be 0);
- `escalated`: share of calls held below the confidence threshold; `executed_precision`: the
  share of executed calls in correctly answered turns;
- `ast_accuracy_successful` / `ast_accuracy_failed`: on items from successful / failed
  trajectories;
- latency p50/p95 (one request at a time) and cost per 1,000 calls (batched throughput on this
  machine at `COST_PER_HOUR_USD`).

Baselines (same items, same grammar where they decode with it): the base model prompted
zero-shot and few-shot with the tools; the encoder route (the extract kind with a joint intent,
through the registry: the intent picks the tool, the slots fill its arguments); a prompted LLM
behind an OpenAI-compatible endpoint when `NARROWTUNE_LLM_BASE_URL` is set.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from narrowtune.errors import NarrowtuneError
from narrowtune.evaluate.blocks import Notes, Table
from narrowtune.evaluate.evaluation import (
    Column,
    Evaluation,
    Section,
    SystemResult,
    build_evaluation,
)
from narrowtune.evaluate.lm_systems import few_shot_system, lora_system, zero_shot_system
from narrowtune.evaluate.significance import mean_items
from narrowtune.kinds.lm.base import is_bundled
from narrowtune.kinds.lm.causal import base_card_notes
from narrowtune.kinds.tool_call.format import template_messages
from narrowtune.kinds.tool_call.metrics import ast_match, names_match
from narrowtune.kinds.tool_call.model import (
    CallDecision,
    Decision,
    ToolCallModel,
    Turn,
    base_model,
)
from narrowtune.kinds.tool_call.spec import toolset_of
from narrowtune.kinds.tool_call.train import first_turn

if TYPE_CHECKING:
    from narrowtune.data import Example, Splits
    from narrowtune.progress import ProgressFn
    from narrowtune.task import Task

COST_PER_HOUR_USD = 0.10  # a 2-vCPU cloud machine, as for the generate kind
LATENCY_ITEMS = 8
PRETRAINED_NOTE = (
    "The bundled Gemma 3 270M is a pretrained model, not an instruction-tuned one: the 'base, "
    "zero-shot' and few-shot rows are that base prompted with the tools (and decoded in the same "
    "grammar), not what an instruction-tuned model with native function calling would do. Set "
    "NARROWTUNE_LLM_BASE_URL to an OpenAI-compatible endpoint to add a prompted-LLM row."
)

Decide = Callable[[Sequence[Turn]], list[Decision]]


def few_shot_turns(train: Sequence[Example], k: int, seed: int) -> list[dict[str, str]]:
    """k successful single-step training examples (a fixed random choice) as earlier turns."""
    pool = [ex for ex in train if ex.target["success"] and len(ex.target["messages"]) == 2]
    chosen = random.Random(seed).sample(pool, min(k, len(pool)))
    turns: list[dict[str, str]] = []
    for ex in chosen:
        turns += template_messages(ex.target["messages"])
    return turns


def score(
    decisions: Sequence[Decision], items: Sequence[Example], turns: Sequence[Turn]
) -> tuple[dict[str, Any], list[bool]]:
    """The metrics of one system's decisions (see the module docstring), and per-item AST."""
    ast, action, exact, irrelevant = [], [], [], []
    categories: dict[str, list[bool]] = {}
    by_success: dict[bool, list[bool]] = {True: [], False: []}
    calls = valid = unconfirmed = escalated = executed = executed_right = 0
    for decision, ex, turn in zip(decisions, items, turns):
        expected = ex.target["expected"]
        pairs = [(c.name, c.arguments) for c in decision.calls]
        ok = decision.valid and ast_match(pairs, expected)
        ast.append(ok)
        named = names_match(decision.names, expected)
        action.append(named)
        if expected and named:
            exact.append(ok)
        if not expected:
            irrelevant.append(not decision.calls)
        categories.setdefault(ex.target["category"], []).append(ok)
        by_success[bool(ex.target["success"])].append(ok)
        for call in decision.calls:
            calls += 1
            valid += not turn.tools.call_problems(call.name, call.arguments)
            if call.status == "execute":
                executed += 1
                executed_right += ok
                unconfirmed += call.name in turn.tools.confirm
            escalated += call.status == "escalate"

    def mean(values: Sequence[bool]) -> float | None:
        return float(np.mean(values)) if values else None

    metrics: dict[str, Any] = {
        "n": len(ast),
        "ast_accuracy": mean(ast),
        "action_accuracy": mean(action),
        "exact_arguments": mean(exact),
        "irrelevance_accuracy": mean(irrelevant),
        "schema_valid": valid / calls if calls else None,
        "unconfirmed_executions": unconfirmed,
        "escalated": escalated / calls if calls else 0.0,
        "executed_precision": executed_right / executed if executed else None,
        "ast_accuracy_successful": mean(by_success[True]),
        "ast_accuracy_failed": mean(by_success[False]),
        "category": {name: mean(values) for name, values in sorted(categories.items())},
        "calls": calls,
    }
    return metrics, ast


def primary_items(metric: str, decisions: Sequence[Decision], items: Sequence[Example]) -> Any:
    """Per-item values of the primary metric (for the margin's interval)."""
    values = []
    for decision, ex in zip(decisions, items):
        expected = ex.target["expected"]
        if metric == "ast_accuracy":
            pairs = [(c.name, c.arguments) for c in decision.calls]
            values.append(float(decision.valid and ast_match(pairs, expected)))
        elif metric == "action_accuracy":
            values.append(float(names_match(decision.names, expected)))
        elif not expected:  # irrelevance_accuracy
            values.append(float(not decision.calls))
    return mean_items(values) if values else None


def timed(decide: Decide, turns: Sequence[Turn]) -> tuple[list[Decision], float]:
    began = time.perf_counter()
    decisions = decide(turns)
    return decisions, time.perf_counter() - began


def latency_of(decide: Decide, turns: Sequence[Turn], wall: float) -> dict[str, Any]:
    """p50/p95 of single requests (the first few items), and the batched cost per 1,000."""
    out: dict[str, Any] = {}
    if turns:
        times = []
        for turn in turns[:LATENCY_ITEMS]:
            began = time.perf_counter()
            decide([turn])
            times.append((time.perf_counter() - began) * 1000)
        out = {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95))}
    if wall > 0 and turns:
        throughput = len(turns) / wall
        out["throughput_per_s"] = throughput
        out["cost_per_1k_usd"] = COST_PER_HOUR_USD / 3600 / throughput * 1000
    return out


# ----------------------------------------------------------------------------- baselines


def _fixed_decision(
    calls: list[tuple[str, dict[str, Any]]], turn: Turn, seconds: float, answer: str | None
) -> Decision:
    out = []
    problems: list[str] = []
    for name, arguments in calls:
        call_problems = turn.tools.call_problems(name, arguments)
        status = (
            "confirm" if name in turn.tools.confirm else "invalid" if call_problems else "execute"
        )
        out.append(CallDecision(name, arguments, 1.0, status, call_problems))
        problems += call_problems
    return Decision(
        text=json.dumps({"tool_calls": [{"name": n, "arguments": a} for n, a in calls]}),
        calls=out,
        answer=None if calls else (answer or ""),
        confidence=1.0,
        problems=problems,
        prompt_tokens=0,
        completion_tokens=0,
        finish_reason="tool_calls" if calls else "stop",
        seconds=seconds,
    )


def _field(tool: str, arg: str) -> str:
    return f"{tool}__{arg}"


def _field_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The extract field for a tool argument, or None where an encoder cannot fill it."""
    if "enum" in schema and all(isinstance(v, str) for v in schema["enum"]):
        return {"enum": list(schema["enum"])}
    kind = schema.get("type")
    if kind == "string":
        return {"type": "string"}
    if kind in ("number", "integer"):
        return {"type": "number"}
    return None


class EncoderRoute:
    """The encoder route: one extract model with a joint intent, trained through the kinds
    registry (`get_kind("extract")`): the intent is the tool (or `no_call`), the slots are the
    arguments of every tool (`tool__argument`). Single-call, fixed-tools tasks only."""

    def __init__(self, task: Task, train: Sequence[Example], validation: Sequence[Example]):
        from narrowtune.kinds import get_kind
        from narrowtune.task import task_from_mapping

        self.toolset = toolset_of(task)
        properties: dict[str, Any] = {}
        for tool in self.toolset.tools:
            for arg, schema in (tool.parameters.get("properties") or {}).items():
                field = _field_schema(schema if isinstance(schema, dict) else {})
                if field is not None:
                    properties[_field(tool.name, arg)] = field
        self.fields = set(properties)
        self.folder = Path(tempfile.mkdtemp(prefix="narrowtune-encoder-route-"))
        (self.folder / "schema.json").write_text(
            json.dumps({"type": "object", "properties": properties})
        )
        for name, rows in (("train", train), ("validation", validation)):
            with (self.folder / f"{name}.jsonl").open("w") as handle:
                for ex in rows:
                    if not ex.target["success"] or len(ex.target["expected"]) > 1:
                        continue
                    handle.write(json.dumps(self._row(ex)) + "\n")
        self.task = task_from_mapping(
            {
                "name": f"{task.name}-encoder-route",
                "kind": "extract",
                "data": {"train": "train.jsonl", "label_column": "route"},
                "schema": "schema.json",
                "extract": {"intent": True},
                "seed": task.seed,
            },
            base_dir=self.folder,
        )
        kind = get_kind("extract")
        self.train_rows = kind.read_examples(self.task, self.folder / "train.jsonl")
        self.val_rows = kind.read_examples(self.task, self.folder / "validation.jsonl")
        began = time.perf_counter()
        self.model = kind.train(self.task, self.train_rows, self.val_rows)
        self.train_seconds = time.perf_counter() - began

    def _row(self, ex: Example) -> dict[str, Any]:
        output: dict[str, Any] = dict.fromkeys(self.fields)
        route = "no_call"
        for call in ex.target["expected"][:1]:
            ((name, arguments),) = call.items()
            route = name
            for arg, allowed in arguments.items():
                key = _field(name, arg)
                if key in output and allowed:
                    output[key] = allowed[0]
        return {"text": ex.text, "output": output, "route": route}

    def decide(self, turns: Sequence[Turn]) -> list[Decision]:
        texts = [next(m["content"] for m in t.messages if m["role"] == "user") for t in turns]
        began = time.perf_counter()
        predictions = self.model.predict(texts)
        seconds = (time.perf_counter() - began) / max(len(texts), 1)
        out = []
        for p, turn in zip(predictions, turns):
            route = p.label if isinstance(p.label, str) else (p.label or ["no_call"])[0]
            if route == "no_call" or route not in turn.tools.by_name:
                out.append(_fixed_decision([], turn, seconds, "no call"))
                continue
            prefix = f"{route}__"
            arguments = {
                k[len(prefix) :]: v
                for k, v in (p.output or {}).items()
                if k.startswith(prefix) and v is not None
            }
            out.append(_fixed_decision([(route, arguments)], turn, seconds, None))
        return out


def llm_decide(turns: Sequence[Turn]) -> tuple[str, str, list[Decision]] | None:
    """The prompted LLM's decisions through OpenAI's `tools` field, or None when unset."""
    from narrowtune.evaluate.llm import Endpoint, LLMError

    endpoint = Endpoint.from_env()
    if endpoint is None:
        return None
    client = endpoint.client()
    name = endpoint.model_name(client)
    out = []
    for turn in turns:
        began = time.perf_counter()
        messages = [
            {"role": m["role"] if m["role"] != "tool" else "user", "content": m["content"]}
            for m in template_messages(turn.messages)
        ]
        try:
            response = client.chat.completions.create(
                model=name,
                messages=messages,
                tools=[t.openai() for t in turn.tools.tools],
                tool_choice="auto",
                temperature=0.0,
            )
        except Exception as exc:
            raise LLMError(
                f"chat completion with tools failed ({type(exc).__name__}: {exc})"
            ) from exc
        message = response.choices[0].message
        calls = []
        for call in message.tool_calls or []:
            try:
                arguments = json.loads(call.function.arguments or "{}")
            except json.JSONDecodeError:
                arguments = {"__unparsed__": call.function.arguments}
            calls.append((call.function.name, arguments if isinstance(arguments, dict) else {}))
        out.append(_fixed_decision(calls, turn, time.perf_counter() - began, message.content))
    return name, endpoint.base_url, out


# ----------------------------------------------------------------------------- the evaluation


def evaluate(
    task: Task,
    model: ToolCallModel,
    splits: Splits,
    *,
    baselines: bool = True,
    latency: bool = True,
    train_seconds: float | None = None,
    progress: ProgressFn | None = None,
) -> Evaluation:
    spec = task.tool_call
    declared = toolset_of(task)
    test = list(splits.test[: spec.eval_limit] if spec.eval_limit else splits.test)
    turns = [first_turn(ex, declared) for ex in test]
    notes: list[str] = []

    candidates: list[tuple[SystemResult, Decide | None]] = [
        (
            lora_system(
                model.config,
                "grammar-constrained to the tools; threshold "
                f"{model.config.threshold:.3f} ({model.config.threshold_note})",
                train_seconds,
            ),
            model.decide,
        )
    ]
    if baselines:
        base = base_model(task)
        candidates.append(
            (
                zero_shot_system(base.config.base, "prompted with the tools, same grammar"),
                base.decide,
            )
        )
        if spec.few_shot:
            shots = few_shot_turns(splits.train, spec.few_shot, task.seed)
            fewshot = ToolCallModel(base.lm, base.tokenizer, base.config, shots=shots)
            candidates.append(
                (
                    few_shot_system(base.config.base, spec.few_shot, ", same grammar"),
                    fewshot.decide,
                )
            )
        per_row_tools = any(ex.target.get("tools") for ex in test)
        route: EncoderRoute | None = None
        if spec.encoder_baseline and not per_row_tools:
            try:
                route = EncoderRoute(task, splits.train, splits.validation)
            except (NarrowtuneError, ValueError) as exc:
                notes.append(f"encoder route baseline failed: {type(exc).__name__}: {exc}")
        if route is not None:
            candidates.append(
                (
                    SystemResult(
                        name="encoder route (extract intent + slots)",
                        role="baseline",
                        description="the extract kind with a joint intent (all-MiniLM-L6-v2): "
                        "the intent picks the tool or no call, the slots fill its arguments",
                        metrics={},
                        train_seconds=route.train_seconds,
                    ),
                    route.decide,
                )
            )
        elif spec.encoder_baseline and per_row_tools:
            notes.append(
                "encoder route skipped: the items carry their own tools (a fixed tool set is "
                "what an intent classifier can learn)"
            )

    systems: list[SystemResult] = []
    outputs: dict[str, list[Decision]] = {}
    total = len(candidates) * len(test)
    for number, (result, decide) in enumerate(candidates):
        if progress:
            progress("decide", number * len(test), total)
        assert decide is not None
        decisions, wall = timed(decide, turns)
        result.metrics, _ = score(decisions, test, turns)
        result.latency = latency_of(decide, turns, wall) if latency else None
        result.items = primary_items(task.metric, decisions, test)
        systems.append(result)
        outputs[result.name] = decisions
    if progress:
        progress("decide", total, total)

    if baselines:
        from narrowtune.evaluate.llm import SKIPPED, LLMError

        try:
            prompted = llm_decide(turns)
        except LLMError as exc:
            prompted = None
            notes.append(f"prompted-LLM baseline failed: {exc}")
        else:
            if prompted is None:
                notes.append(SKIPPED)
        if prompted is not None:
            llm_name, url, decisions = prompted
            result = SystemResult(
                name=f"prompted LLM ({llm_name})",
                role="baseline",
                description=f"the same conversation and tools via {url} (OpenAI `tools`), "
                "temperature 0",
                metrics=score(decisions, test, turns)[0],
                train_seconds=0.0,
                latency={"p50_ms": float(np.median([d.seconds for d in decisions]) * 1000)},
                items=primary_items(task.metric, decisions, test),
            )
            systems.append(result)
            outputs[result.name] = decisions

    notes += [
        f"Scored on the first action of {len(test)} test items; the tool results and later "
        "steps of trajectories are in the training data, and failed trajectories are scored "
        "(never trained on).",
        f"Confidence: {model.config.confidence}. Threshold: {model.config.threshold_note}.",
        "Calls to confirm-only tools are returned with status 'confirm' and never executed; "
        "unconfirmed_executions counts any that were marked to execute.",
        *base_card_notes(model.config.base),
    ]
    if baselines and is_bundled(model.config.base):
        notes.insert(0, PRETRAINED_NOTE)
    categories = sorted({ex.target["category"] for ex in test})
    columns = [
        Column("ast_accuracy", "AST %", "pct"),
        Column("action_accuracy", "action %", "pct"),
        Column("exact_arguments", "exact args %", "pct"),
        Column("irrelevance_accuracy", "no-call %", "pct"),
        Column("schema_valid", "schema-valid %", "pct"),
        Column("unconfirmed_executions", "unconfirmed exec.", "int"),
        Column("escalated", "escalated %", "pct"),
        Column("latency.p50_ms", "p50 ms", "ms"),
        Column("latency.p95_ms", "p95 ms", "ms"),
        Column("latency.cost_per_1k_usd", "$/1k calls", "cost"),
        Column("train_seconds", "train s", "int"),
    ]
    return build_evaluation(
        task.name,
        task.kind,
        splits,
        systems,
        primary_metric=task.metric,
        evaluated=test,
        columns=columns,
        sections=[
            Section(
                "tool-call-categories",
                "AST accuracy per category",
                _category_table(systems, categories),
            ),
            Section("tool-call-samples", "Actions side by side", _samples(test, systems, outputs)),
            Section("tool-call-notes", "How this was measured", Notes(tuple(notes))),
        ],
        notes=notes,
        details={
            "outputs": [
                {
                    "request": ex.text,
                    "expected": ex.target["expected"],
                    **{s.name: outputs[s.name][i].output() for s in systems},
                }
                for i, ex in enumerate(test)
            ]
        },
    )


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _category_table(systems: Sequence[SystemResult], categories: list[str]) -> Table:
    return Table(
        ("system", *categories),
        tuple((s.name, *(_pct(s.metrics["category"].get(c)) for c in categories)) for s in systems),
    )


def _samples(
    test: Sequence[Example], systems: Sequence[SystemResult], outputs: dict[str, list[Decision]]
) -> Table:
    rows = []
    for i, ex in enumerate(test[:12]):
        rows.append(
            (
                ex.text[:160],
                json.dumps(ex.target["expected"])[:160],
                *(outputs[s.name][i].text[:160] for s in systems),
            )
        )
    return Table(("request", "expected", *(s.name for s in systems)), tuple(rows))
