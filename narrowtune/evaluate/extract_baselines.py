"""What a user would run instead of a fine-tuned extractor, scored on the same split.

- `Gazetteer` (always available): span values seen in training found again in the text (longest
  match first), the most frequent value for enum/boolean fields and the intent.
- `UserRules`: the task's own rule/regex extractor, `extract.baseline: "file.py:function"`.
  The function takes one text and returns the output dict, or `(output dict, intent)`.
- `LLMExtractor`: a prompted LLM with JSON-schema-constrained output through any
  OpenAI-compatible endpoint; only when `NARROWTUNE_LLM_BASE_URL` is set
  (`NARROWTUNE_LLM_API_KEY`, `NARROWTUNE_LLM_MODEL` optional; see `narrowtune.evaluate.llm`).

All of them go through the same `Finalizer` as the model, so their outputs are normalised and
validated by the same rules.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.base import Prediction
from narrowtune.kinds.extract.align import word_offsets
from narrowtune.kinds.extract.fields import Field, relaxed_schema
from narrowtune.kinds.extract.metrics import SpanSet
from narrowtune.kinds.extract.output import Finalizer, Guess

if TYPE_CHECKING:
    from narrowtune.data import Example

Predictions = tuple[list[Prediction], list[SpanSet] | None]


def _key(text: str) -> tuple[str, ...]:
    return tuple(text[s:e].lower() for s, e in word_offsets(text))


class Gazetteer:
    """Values seen in training, matched in new text; majority value for the other fields."""

    name = "gazetteer"
    description = (
        "span values seen in training matched in the text (longest first); most frequent value "
        "for enum/boolean fields and the intent"
    )

    def __init__(self, fields: Sequence[Field], finalizer: Finalizer, train: Sequence[Example]):
        self.fields = list(fields)
        self.finalizer = finalizer
        counts: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
        present: Counter[str] = Counter()
        for ex in train:
            for field in self.fields:
                if not field.spans:
                    continue
                spans = ex.target["spans"].get(field.name, [])
                surfaces = [ex.text[s:e] for s, e in spans]
                if not surfaces:
                    value = ex.target["output"].get(field.name)
                    items = value if isinstance(value, list) else [value]
                    surfaces = [str(v) for v in items if isinstance(v, str)]
                for surface in surfaces:
                    key = _key(surface)
                    if key:
                        counts[key][field.name] += 1
                present[field.name] += bool(surfaces)
        self.lexicon = dict(counts)
        self.longest = max((len(k) for k in self.lexicon), default=0)
        n = max(len(train), 1)
        self.absent = {f.name: 1.0 - present[f.name] / n for f in self.fields}
        self.majority: dict[str, tuple[Any, float]] = {}
        for field in self.fields:
            if field.role == "class":
                values = Counter(json.dumps(ex.target["output"].get(field.name)) for ex in train)
                value, count = values.most_common(1)[0]
                self.majority[field.name] = (json.loads(value), count / n)
        intents = Counter(ex.label for ex in train if ex.labels)
        self.intent = intents.most_common(1)[0] if intents else None
        self.n_train = n

    def _matches(self, text: str) -> list[tuple[str, float, int, int]]:
        words = word_offsets(text)
        lowered = [text[s:e].lower() for s, e in words]
        used = [False] * len(words)
        found = []
        for size in range(min(self.longest, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                if any(used[i : i + size]):
                    continue
                counts = self.lexicon.get(tuple(lowered[i : i + size]))
                if not counts:
                    continue
                name, count = counts.most_common(1)[0]
                found.append(
                    (name, count / sum(counts.values()), words[i][0], words[i + size - 1][1])
                )
                used[i : i + size] = [True] * size
        return sorted(found, key=lambda m: m[2])

    def predict(self, texts: Sequence[str]) -> Predictions:
        preds, all_spans = [], []
        for text in texts:
            matches = self._matches(text)
            guesses: dict[str, Guess] = {}
            spans: SpanSet = set()
            for field in self.fields:
                if field.role == "class":
                    value, share = self.majority[field.name]
                    guesses[field.name] = Guess(value, share)
                    continue
                mine = [m for m in matches if m[0] == field.name]
                if field.role == "span" and mine:
                    mine = [max(mine, key=lambda m: (m[1], m[3] - m[2]))]
                if mine:
                    values = [text[s:e] for _, _, s, e in mine]
                    guesses[field.name] = Guess(
                        values if field.role == "list" else values[0], min(m[1] for m in mine)
                    )
                    spans.update((field.name, s, e) for _, _, s, e in mine)
                else:
                    guesses[field.name] = Guess(None, self.absent[field.name])
            label, label_confidence = ("", None)
            if self.intent:
                label, label_confidence = self.intent[0], self.intent[1] / self.n_train
            pred = self.finalizer.finalize(guesses, label=label, label_confidence=label_confidence)
            preds.append(pred)
            all_spans.append({s for s in spans if s[0] in (pred.output or {})})
        return preds, all_spans


def load_function(task_dir: str | Path, reference: str) -> Callable[..., Any]:
    """The function named by 'file.py:function' (file relative to the task's folder)."""
    file_part, sep, function = reference.rpartition(":")
    if not sep or not file_part.endswith(".py") or not function:
        raise NarrowtuneError(
            f"extract.baseline {reference!r} must look like 'rules.py:extract' "
            "(a Python file relative to the task, then the function name)"
        )
    path = Path(file_part).expanduser()
    path = path if path.is_absolute() else Path(task_dir) / path
    if not path.is_file():
        raise NarrowtuneError(f"extract.baseline: file {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"narrowtune_user_rules_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise NarrowtuneError(f"extract.baseline: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: report whatever it raised, with the file
        raise NarrowtuneError(f"extract.baseline: importing {path} failed: {exc!r}") from exc
    func = getattr(module, function, None)
    if not callable(func):
        raise NarrowtuneError(f"extract.baseline: {path} has no function '{function}'")
    return func


class UserRules:
    """The task's own rule/regex extractor, held to the same output rules as the model."""

    name = "rules"

    def __init__(self, func: Callable[..., Any], finalizer: Finalizer, reference: str) -> None:
        self.func = func
        self.finalizer = finalizer
        self.description = f"your rule-based extractor ({reference})"

    def predict(self, texts: Sequence[str]) -> Predictions:
        names = {f.name for f in self.finalizer.fields}
        preds = []
        for i, text in enumerate(texts):
            result = self.func(text)
            label = ""
            if isinstance(result, tuple) and len(result) == 2:
                result, label = result[0], str(result[1] or "")
            if not isinstance(result, dict):
                raise NarrowtuneError(
                    f"extract.baseline returned {type(result).__name__} for text {i}; "
                    "it must return the output dict (or a (dict, intent) pair)"
                )
            guesses = {k: Guess(v, 1.0) for k, v in result.items() if k in names}
            pred = self.finalizer.finalize(guesses, label=label)
            unknown = sorted(set(result) - names)
            if unknown:
                pred.problems.append(f"fields not in the schema ignored: {', '.join(unknown)}")
            preds.append(pred)
        return preds, None


class LLMExtractor:
    """A prompted LLM answering in JSON constrained by the task's schema (OpenAI-compatible),
    through the endpoint configured in the environment (`narrowtune.evaluate.llm`)."""

    name = "prompted LLM"

    def __init__(
        self,
        endpoint: Any,
        schema: dict[str, Any],
        finalizer: Finalizer,
        *,
        instructions: str,
        examples: Sequence[Example],
        intents: Sequence[str] = (),
    ) -> None:
        self.client = endpoint.client()
        self.model = endpoint.model_name(self.client)
        self.finalizer = finalizer
        self.intents = list(intents)
        names = [f.name for f in finalizer.fields]
        # every field may be null in the answer: "not stated" must be sayable
        answer = {**relaxed_schema(schema, names), "required": names}
        if self.intents:
            answer = {
                **answer,
                "properties": {**answer["properties"], "_intent": {"enum": self.intents}},
                "required": [*names, "_intent"],
            }
        self.answer_schema = answer
        shots = "\n\n".join(
            f"Text: {ex.text}\nJSON: {json.dumps(self._shot(ex), ensure_ascii=False)}"
            for ex in examples
        )
        self.system = (
            "Extract the fields described by the JSON schema from the user's text. Answer with "
            "one JSON object only; use null for anything the text does not state."
            + (f"\nTask: {instructions}" if instructions else "")
            + (f"\nExamples:\n{shots}" if shots else "")
        )
        self.description = f"{self.model} prompted with the schema and {len(examples)} examples"

    def _shot(self, ex: Example) -> dict[str, Any]:
        shot = dict(ex.target["output"])
        if self.intents:
            shot["_intent"] = ex.label
        return shot

    def predict(self, texts: Sequence[str]) -> Predictions:
        from narrowtune.evaluate.llm import complete

        preds = []
        for text in texts:
            content = complete(
                self.client,
                self.model,
                [{"role": "system", "content": self.system}, {"role": "user", "content": text}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "extraction", "schema": self.answer_schema},
                },
            )
            try:
                result = json.loads(content)
            except json.JSONDecodeError:
                result = None
            if not isinstance(result, dict):
                pred = self.finalizer.finalize({})
                pred.problems.append(f"the LLM reply is not a JSON object: {content[:200]!r}")
                preds.append(pred)
                continue
            label = str(result.pop("_intent", "") or "")
            # no calibrated confidence from a chat reply: every answer counts as certain
            guesses = {k: Guess(v, 1.0) for k, v in result.items()}
            preds.append(self.finalizer.finalize(guesses, label=label))
        return preds, None
