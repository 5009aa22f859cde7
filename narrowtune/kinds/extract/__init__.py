"""Kind `extract`: text -> JSON that validates against the task's schema.

This module is the plug-in declaration only (light: no torch). The schema is read into fields
by `schema.py` and `fields.py`; rows are read by `data.py`; spans are aligned to words by
`align.py`; values are normalised by `normalize.py`; outputs are built valid by `output.py`;
metrics are in `metrics.py`; the model is `model.py` and its training recipe `train.py`. The
evaluation against the baselines is `narrowtune.evaluate.extract`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from narrowtune.kinds.base import AuditPolicy, Kind
from narrowtune.kinds.extract.spec import ExtractSpec

if TYPE_CHECKING:
    from narrowtune.task import Task


def has_intent(task: Task) -> bool:
    """Rows carry a label (the intent) only when `extract.intent` is on."""
    return bool(task.extract.intent)


def settle(task: Task) -> None:
    """The task's `schema:` must be there and be a valid JSON Schema of an object."""
    from narrowtune.kinds.extract.schema import SchemaProblem, resolve_schema

    try:
        resolve_schema(task.output_schema, task.base_dir)
    except SchemaProblem as exc:
        raise ValueError(str(exc)) from None


KIND = Kind(
    name="extract",
    summary="fill a fixed JSON schema from each text (fields, spans, enums, an intent)",
    metrics=("field_f1", "span_f1", "exact_match", "intent_accuracy"),
    trainer="narrowtune.kinds.extract.train:train",
    loader="narrowtune.kinds.extract.model:load",
    evaluator="narrowtune.evaluate.extract:evaluate",
    section="extract",
    spec=ExtractSpec,
    reader="narrowtune.kinds.extract.data:read_examples",
    labeled=has_intent,
    takes_schema=True,
    settle=settle,
    scaffold="narrowtune.kinds.extract.scaffold:scaffold",
    audit=AuditPolicy(windowed=True),
)
