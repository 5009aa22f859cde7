"""The fine-tuned tool caller of kind `tool_call`: a causal LM (LoRA merged in) whose every turn
is decoded inside a grammar of the declared tools.

Each turn is one action (see `format`): calls to declared tools, each with arguments valid
against its tool's JSON Schema, or a text answer (no call). llguidance compiles the action's
JSON Schema (`Toolset.action_schema`: the tool names as constants, each tool's parameters as
its arguments' schema) and masks every token that cannot continue a valid action, so the model
still chooses among the allowed tokens by its own scores.

Each call gets a confidence: the geometric mean probability of the tokens that wrote it.
Then the policy decides its status:
- `confirm`: the tool needs a person's confirmation (policy.confirm); never executed here;
- `escalate`: confidence below the threshold chosen on validation; not executed;
- `invalid`: the call fails its schema (only possible where the grammar could not be compiled);
- `execute`: safe to run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import Generation, Prediction
from narrowtune.kinds.lm.base import base_name
from narrowtune.kinds.lm.causal import (
    LMError,
    base_card_notes,
    encode_conversation,
    grammar_tokenizer,
    load_adapted,
    load_base,
    save_adapter,
    stop_token_ids,
)
from narrowtune.kinds.lm.decode import decode_batch
from narrowtune.kinds.lm.grammar import (
    COMPACT_JSON_OPTIONS,
    GrammarMatcher,
    compile_grammar,
)
from narrowtune.kinds.lm.template import STOP_STRINGS, cut_at_stop
from narrowtune.kinds.tool_call.format import Action, call_spans, parse_action, template_messages
from narrowtune.kinds.tool_call.tools import ToolError, Toolset, read_tools

if TYPE_CHECKING:
    from narrowtune.task import Task

CONFIG_FILE = "tool_call.json"
STATUSES = ("execute", "confirm", "escalate", "invalid")
CONFIDENCE_NOTE = "geometric mean probability of the tokens that wrote the call"


class ToolCallError(NarrowtuneError):
    """Options, tools or requests the tool_call kind cannot use."""


@dataclass
class ToolCallConfig:
    """Everything besides weights needed to rebuild and use a tool caller."""

    base: str
    system: str = ""
    tools: list[dict[str, Any]] = field(default_factory=list)
    confirm: list[str] = field(default_factory=list)
    no_call: bool = True
    prompt_tools: str = "signatures"
    threshold: float = 0.0
    threshold_note: str = ""
    max_new_tokens: int = 128
    max_length: int = 768
    lora: dict[str, Any] = field(default_factory=dict)
    fine_tuned: bool = True
    steps: int = 0
    epochs: float = 0.0
    train_examples: int = 0
    failed_trajectories_skipped: int = 0
    validation_loss_before: float | None = None
    validation_loss_after: float | None = None
    train_tokens_per_s: float | None = None
    confidence: str = CONFIDENCE_NOTE
    card_notes: list[str] = field(default_factory=list)


@dataclass
class CallDecision:
    name: str
    arguments: dict[str, Any]
    confidence: float
    status: str
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Decision:
    """One turn: the calls with their statuses, or the answer, and what it cost."""

    text: str
    calls: list[CallDecision]
    answer: str | None
    confidence: float
    problems: list[str]
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    seconds: float

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def output(self) -> dict[str, Any]:
        return {"tool_calls": [c.to_dict() for c in self.calls], "answer": self.answer}


@dataclass(frozen=True)
class Turn:
    """One request to decide: the conversation so far, the tools it may use, and which calls
    `tool_choice` allows (None: any tool or none; [] : no call)."""

    messages: list[dict[str, Any]]
    tools: Toolset
    names: list[str] | None = None
    require_call: bool = False


class ToolCallModel:
    """A causal LM (LoRA merged in) that chooses the action for a request, inside the grammar."""

    kind = "tool_call"
    calls_tools = True

    def __init__(
        self,
        lm: Any,
        tokenizer: Any,
        config: ToolCallConfig,
        *,
        adapter: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None,
        shots: Sequence[dict[str, str]] = (),
    ) -> None:
        self.config = config
        self.adapter = adapter
        self.shots = [dict(m) for m in shots]
        self.lm = lm.eval()
        self.tokenizer = tokenizer
        self.device = next(lm.parameters()).device
        self._stop_ids = stop_token_ids(tokenizer)
        self._llg: Any = None
        self._grammars: dict[str, str | None] = {}
        self.toolset = Toolset(read_tools(config.tools, "tools"), frozenset(config.confirm))

    # -- prompts

    def system_for(self, tools: Toolset) -> str:
        return f"{self.config.system}\n\n{tools.prompt(self.config.prompt_tools)}".strip()

    def conversation(self, turn: Turn) -> list[dict[str, str]]:
        system = {"role": "system", "content": self.system_for(turn.tools)}
        return [system, *self.shots, *template_messages(turn.messages)]

    def turn_for(self, text: str, tools: Toolset | None = None) -> Turn:
        return Turn([{"role": "user", "content": text}], tools or self.toolset)

    # -- decoding

    def _grammar(self, turn: Turn) -> str | None:
        schema = turn.tools.action_schema(
            names=turn.names,
            allow_answer=self.config.no_call and not turn.require_call,
            allow_calls=turn.names != [],
        )
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = compile_grammar(schema, None, json_options=COMPACT_JSON_OPTIONS)[
                0
            ]
        return self._grammars[key]

    def _llg_tokenizer(self) -> Any:
        if self._llg is None:
            self._llg = grammar_tokenizer(self.lm, self.tokenizer)
        return self._llg

    def decide(
        self, turns: Sequence[Turn], *, batch_size: int = 8, max_new_tokens: int | None = None
    ) -> list[Decision]:
        """The action for each turn (batched, grammar-constrained), with statuses."""
        out: list[Decision] = []
        for start in range(0, len(turns), batch_size):
            batch = list(turns[start : start + batch_size])
            began = time.perf_counter()
            raw = self._generate(batch, max_new_tokens or self.config.max_new_tokens)
            seconds = (time.perf_counter() - began) / len(batch)
            out += [self._decision(t, r, seconds) for t, r in zip(batch, raw)]
        return out

    def _generate(self, turns: Sequence[Turn], max_new_tokens: int) -> list[dict[str, Any]]:
        prompts = [
            encode_conversation(self.tokenizer, self.conversation(t), add_generation_prompt=True)[0]
            for t in turns
        ]
        grammars = [self._grammar(t) for t in turns]
        matchers = None
        if all(g is not None for g in grammars):
            tokenizer = self._llg_tokenizer()
            matchers = [GrammarMatcher(tokenizer, g) for g in grammars if g is not None]
        rows = decode_batch(
            self.lm,
            self.tokenizer,
            prompts,
            self._stop_ids,
            self.device,
            options={
                "max_new_tokens": max_new_tokens,
                "do_sample": False,
                "temperature": None,
                "top_p": None,
                "top_k": None,
            },
            matchers=matchers,
        )
        out = []
        for row in rows:
            kept = row.kept
            logprobs = row.scored[: len(kept)].tolist()
            # character offset where each kept token ends, for per-call confidences
            ends = [len(self.tokenizer.decode(kept[: i + 1])) for i in range(len(kept))]
            text = self.tokenizer.decode(kept, skip_special_tokens=True)
            text, cut = cut_at_stop(text, STOP_STRINGS)
            out.append(
                {
                    "text": text,
                    "logprobs": logprobs,
                    "ends": ends,
                    "confidence": row.confidence,
                    "prompt_tokens": row.prompt_tokens,
                    "completion_tokens": len(kept),
                    "finish": "stop" if row.ended or cut else "length",
                }
            )
        return out

    def _decision(self, turn: Turn, raw: dict[str, Any], seconds: float) -> Decision:
        text = raw["text"]
        action, why = parse_action(text.strip())
        problems: list[str] = []
        calls: list[CallDecision] = []
        answer = None
        if action is None:
            problems.append(f"the output is not an action: {why}")
            if raw["finish"] == "length":
                problems.append("cut off at max_new_tokens")
        else:
            answer = action.answer
            spans = call_spans(text)
            for i, call in enumerate(action.calls):
                confidence = raw["confidence"]
                if i < len(spans):
                    confidence = _span_confidence(raw["logprobs"], raw["ends"], spans[i])
                call_problems = turn.tools.call_problems(call.name, call.arguments)
                if call.name in turn.tools.confirm:
                    status = "confirm"
                elif call_problems:
                    status = "invalid"
                elif confidence < self.config.threshold:
                    status = "escalate"
                else:
                    status = "execute"
                calls.append(
                    CallDecision(
                        call.name, call.arguments, round(confidence, 6), status, call_problems
                    )
                )
                problems += call_problems
        confidence = min((c.confidence for c in calls), default=raw["confidence"])
        return Decision(
            text=text.strip(),
            calls=calls,
            answer=answer,
            confidence=round(float(confidence), 6),
            problems=problems,
            prompt_tokens=raw["prompt_tokens"],
            completion_tokens=raw["completion_tokens"],
            finish_reason="tool_calls" if calls else raw["finish"],
            seconds=seconds,
        )

    # -- the Model protocol

    def predict(self, texts: Sequence[str], *, batch_size: int = 8) -> list[Prediction]:
        """The action for each request: `label` names the tools called (`no_call` for none);
        calls that are escalated, await confirmation or are invalid make it abstain."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of requests, not a single string")
        if not texts:
            return []
        decisions = self.decide([self.turn_for(t) for t in texts], batch_size=batch_size)
        return [prediction_of(d) for d in decisions]

    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: Any = None,
    ) -> Generation:
        """Answer an OpenAI-style conversation (roles system/user/assistant/tool): the action,
        as `tool_calls` (each with its confidence and status) or as text. `tools` must be
        declared tools (a subset); `tool_choice` is "auto", "none", "required" or one function."""
        turn = self.chat_turn(messages, tools, tool_choice)
        [decision] = self.decide([turn], max_new_tokens=max_new_tokens)
        held = [f"{c.name} ({c.status})" for c in decision.calls if c.status != "execute"]
        text = decision.answer or ""
        if held:
            text = "Not executed, held for a person: " + ", ".join(held)
        return Generation(
            text=text,
            prompt_tokens=decision.prompt_tokens,
            completion_tokens=decision.completion_tokens,
            finish_reason=decision.finish_reason,
            valid=decision.valid,
            problems=decision.problems,
            tool_calls=[c.to_dict() for c in decision.calls],
        )

    def chat_turn(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: Any = None,
    ) -> Turn:
        """The Turn an OpenAI-style request asks for; ValueError naming what is wrong."""
        toolset = self.toolset
        if tools:
            try:
                asked = read_tools(list(tools), "tools")
            except ToolError as exc:
                raise ValueError(str(exc)) from None
            unknown = [t.name for t in asked if t.name not in toolset.by_name]
            if unknown:
                raise ValueError(
                    f"tools: {', '.join(unknown)} not declared by this model "
                    f"(declared: {', '.join(toolset.names)})"
                )
            toolset = toolset.subset(t.name for t in asked)
        names: list[str] | None = None
        require = False
        if tool_choice in (None, "auto"):
            pass
        elif tool_choice == "none":
            names = []
        elif tool_choice == "required":
            require = True
        elif isinstance(tool_choice, dict) and isinstance(tool_choice.get("function"), dict):
            name = tool_choice["function"].get("name")
            if name not in toolset.by_name:
                raise ValueError(f"tool_choice: {name!r} is not among the request's tools")
            names, require = [name], True
        else:
            raise ValueError("tool_choice must be 'auto', 'none', 'required' or a function")
        return Turn(conversation_of(messages, self.toolset), toolset, names, require)

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.adapter is not None:
            save_adapter(directory, self.adapter)
        (directory / CONFIG_FILE).write_text(json.dumps(asdict(self.config), indent=2))


def _span_confidence(
    logprobs: Sequence[float], ends: Sequence[int], span: tuple[int, int]
) -> float:
    """exp(mean log-probability) of the tokens overlapping the character span."""
    begin, finish = span
    picked = [
        lp
        for i, lp in enumerate(logprobs)
        if ends[i] > begin and (ends[i - 1] if i else 0) < finish
    ]
    if not picked:
        return 0.0
    return float(torch.exp(torch.tensor(picked).mean()))


def prediction_of(decision: Decision) -> Prediction:
    held = [c for c in decision.calls if c.status != "execute"]
    return Prediction(
        label="+".join(decision.names) or "no_call",
        confidence=decision.confidence,
        abstain=bool(held) or not decision.valid,
        output=decision.output(),
        valid=decision.valid,
        problems=decision.problems,
    )


def conversation_of(messages: Sequence[dict[str, Any]], tools: Toolset) -> list[dict[str, Any]]:
    """OpenAI-style messages as the kind's conversation: an assistant turn with tool_calls
    becomes its action JSON (arguments in `tools`' schema order), tool results must be JSON."""
    from narrowtune.kinds.tool_call.format import Call, render_action

    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        role = m.get("role")
        content = m.get("content")
        if role == "assistant" and m.get("tool_calls"):
            calls = []
            for call in m["tool_calls"]:
                fn = call.get("function", call) if isinstance(call, dict) else {}
                arguments = fn.get("arguments", {})
                if isinstance(arguments, str):
                    try:
                        arguments = json.loads(arguments)
                    except json.JSONDecodeError:
                        raise ValueError(
                            f"messages[{i}].tool_calls: arguments are not JSON"
                        ) from None
                name = str(fn.get("name"))
                calls.append(Call(name, tools.ordered(name, arguments)))
            out.append({"role": "assistant", "content": render_action(Action(calls=calls))})
        elif role == "assistant":
            out.append(
                {"role": "assistant", "content": render_action(Action(answer=str(content or "")))}
            )
        elif role == "tool":
            if not isinstance(content, str):
                raise ValueError(f"messages[{i}].content: a tool result must be text (JSON)")
            try:
                json.loads(content)
            except json.JSONDecodeError:
                raise ValueError(f"messages[{i}].content: the tool result is not JSON") from None
            out.append({"role": "tool", "name": str(m.get("name") or "tool"), "content": content})
        elif role in ("system", "user"):
            if not isinstance(content, str) or not content.strip():
                raise ValueError(f"messages[{i}].content: empty or not text")
            out.append({"role": role, "content": content})
        else:
            raise ValueError(f"messages[{i}].role: {role!r} is not system, user, assistant or tool")
    if not any(m["role"] == "user" for m in out):
        raise ValueError("messages: no user turn")
    return out


# ----------------------------------------------------------------------------- loading


def load(directory: Path | str, *, backend: str = "torch") -> ToolCallModel:
    """Load a tool caller saved by `ToolCallModel.save` (base model + LoRA adapter, merged)."""
    if backend != "torch":
        raise NarrowtuneError(f"kind tool_call runs on the torch backend, not '{backend}'")
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise NarrowtuneError(f"{directory} holds no trained tool caller ({CONFIG_FILE} missing)")
    config = ToolCallConfig(**json.loads(config_path.read_text()))
    lm, tokenizer, adapter = load_adapted(directory, config.base)
    return ToolCallModel(lm, tokenizer, config, adapter=adapter)


def base_model(task: Task, *, shots: Sequence[dict[str, str]] = ()) -> ToolCallModel:
    """The task's base model, prompted with the tools (zero-shot, or few-shot with `shots`),
    decoded in the same grammar, no fine-tuning and no threshold."""
    from narrowtune.kinds.tool_call.spec import toolset_of

    spec = task.tool_call
    name = base_name(task)
    lm, tokenizer, _ = load_base(name)
    config = ToolCallConfig(
        base=name,
        system=spec.system,
        tools=[t.openai() for t in toolset_of(task).tools],
        confirm=list(spec.policy.confirm),
        no_call=spec.policy.no_call,
        max_new_tokens=spec.max_new_tokens,
        fine_tuned=False,
        card_notes=base_card_notes(name),
    )
    return ToolCallModel(lm, tokenizer, config, shots=shots)


__all__ = ["LMError", "ToolCallConfig", "ToolCallModel", "base_model", "load"]
