"""The chat template narrowtune trains and generates with (Gemma's turn format), and its stops.

The bundled base model is a pre-trained (not instruction-tuned) checkpoint without a chat
template, so narrowtune supplies one, the same for every base model:

    <bos><start_of_turn>user
    {system}

    {user}<end_of_turn>
    <start_of_turn>model
    {assistant}<end_of_turn>

A system message folds into the first user turn (Gemma has no system role). Training computes the
loss on each assistant reply and the `<end_of_turn>` that closes it, nothing else, so the model
learns where a reply ends; generation stops on `<end_of_turn>` (without that stop a base model
runs on past its reply).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

START = "<start_of_turn>"
END = "<end_of_turn>"
SPECIAL_TOKENS = (START, END)
# Generation stops at the end of the model's turn, or where it starts a new turn on its own.
STOP_STRINGS = (END, START)
ROLES = ("system", "user", "assistant")
_TURN_NAME = {"user": "user", "assistant": "model"}


@dataclass(frozen=True)
class Segment:
    """A piece of templated text; `trained` marks assistant text the loss is computed on.

    `markup` pieces are template text whose special tokens must be kept; message content is
    tokenized with special tokens split, so text inside a message cannot open or close a turn.
    """

    text: str
    trained: bool = False
    markup: bool = False


def with_system(messages: Sequence[dict[str, str]], system: str) -> list[dict[str, str]]:
    """`messages` with the task's system instruction first, unless they bring their own."""
    out = [dict(m) for m in messages]
    if system and not any(m["role"] == "system" for m in out):
        out.insert(0, {"role": "system", "content": system})
    return out


def segments(
    messages: Sequence[dict[str, str]], *, add_generation_prompt: bool = False
) -> list[Segment]:
    """The conversation as templated segments (see the module docstring).

    Messages are `{"role": "system"|"user"|"assistant", "content": str}`; system messages fold
    into the next user turn. With `add_generation_prompt` the result ends with an open model turn.
    """
    out: list[Segment] = []
    pending_system: list[str] = []
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "system":
            pending_system.append(content)
            continue
        if role not in _TURN_NAME:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        out.append(Segment(f"{START}{_TURN_NAME[role]}\n", markup=True))
        if role == "user" and pending_system:
            content = "\n\n".join([*pending_system, content])
            pending_system = []
        trained = role == "assistant"
        out.append(Segment(content, trained=trained))
        out.append(Segment(END, trained=trained, markup=True))
        out.append(Segment("\n", markup=True))
    if pending_system:  # a system message with no user turn after it
        out.append(Segment(f"{START}user\n", markup=True))
        out.append(Segment("\n\n".join(pending_system)))
        out.append(Segment(f"{END}\n", markup=True))
    if add_generation_prompt:
        out.append(Segment(f"{START}model\n", markup=True))
    return out


def render(messages: Sequence[dict[str, str]], *, add_generation_prompt: bool = False) -> str:
    """The templated conversation as one string (for display and export; training tokenizes
    segment by segment)."""
    return "".join(s.text for s in segments(messages, add_generation_prompt=add_generation_prompt))


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """`text` up to the first stop string, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


OLLAMA_TEMPLATE = (
    "{{ if .System }}<start_of_turn>user\n{{ .System }}\n\n{{ .Prompt }}<end_of_turn>\n"
    "{{ else }}<start_of_turn>user\n{{ .Prompt }}<end_of_turn>\n{{ end }}"
    "<start_of_turn>model\n{{ .Response }}<end_of_turn>\n"
)
