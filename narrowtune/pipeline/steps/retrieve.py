"""`retrieve`: passages from an index (`narrowtune index build`), flagged when stale."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from narrowtune.pipeline.refs import render
from narrowtune.pipeline.steps.base import Step, StepConfig, StepFailed, register_step, resolve_path


class RetrieveConfig(StepConfig):
    index: str = Field(description="The index directory (relative to the pipeline file).")
    query: str = Field(description="A template: the text to search with.")
    k: int = Field(default=4, ge=1, le=50)
    mode: Literal["hybrid", "vector", "bm25"] = "hybrid"


@register_step
class RetrieveStep(Step):
    type = "retrieve"
    Config = RetrieveConfig
    config: RetrieveConfig

    def __init__(self, config: StepConfig, base_dir: Path) -> None:
        super().__init__(config, base_dir)
        self.index: Any = None

    def outputs(self) -> dict[str, str]:
        return {"hits": "array", "context": "string", "stale": "boolean", "top": "object"}

    def templates(self) -> list[Any]:
        return [self.config.query]

    def prepare(self) -> None:
        if self.index is None:
            from narrowtune.retrieval import open_index

            self.index = open_index(resolve_path(self.base_dir, self.config.index))

    def run(self, scope: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        from narrowtune.errors import NarrowtuneError

        query = str(render(self.config.query, scope))
        try:
            self.prepare()
            hits = self.index.query(query, k=self.config.k, mode=self.config.mode)
        except NarrowtuneError as exc:
            raise StepFailed(f"step '{self.id}': {exc}") from None
        if not hits:
            raise StepFailed(f"step '{self.id}': the index returned no passage for this case")
        rows = [
            {
                "doc_id": h.doc_id,
                "chunk_id": h.chunk_id,
                "title": h.title,
                "text": h.text,
                "score": float(h.score),
                "updated_at": h.updated_at.isoformat() if h.updated_at else None,
                "stale": bool(h.stale),
                "source": h.source,
            }
            for h in hits
        ]
        return {"query": query}, {
            "hits": rows,
            "context": self.index.context(hits),
            "stale": any(r["stale"] for r in rows),
            "top": rows[0],
        }
