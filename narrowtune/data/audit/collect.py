"""What an audit looks at: every usable row of the task's files, tagged with its split.

The rows are split exactly as `narrowtune.data.load_splits` splits them (same `make_splits`
call, same fractions and seed), but from a lenient load, so that bad rows become findings and
the rest of the data is still audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from narrowtune.data.audit.findings import Finding
from narrowtune.data.audit.rows import LoadedRows, load_rows
from narrowtune.data.load import Example
from narrowtune.data.split import Splits, column_options, task_splits

if TYPE_CHECKING:
    from narrowtune.task import Task

ROLES = ("train", "validation", "test")


@dataclass
class AuditData:
    files: dict[str, LoadedRows]  # role -> what was read from that file
    splits: Splits
    findings: list[Finding] = field(default_factory=list)  # from loading

    @property
    def examples(self) -> list[Example]:
        """All usable rows in file order: the train file, then validation, then test files."""
        return [ex for role in ROLES if role in self.files for ex in self.files[role].examples]

    @property
    def split_of(self) -> list[str]:
        """The split each row of `examples` lands in (carved rows included)."""
        split = {
            ex.where: name
            for name, part in (
                ("train", self.splits.train),
                ("validation", self.splits.validation),
                ("test", self.splits.test),
            )
            for ex in part
        }
        return [split[ex.where] for ex in self.examples]


def collect(task: Task, *, stop_on_error: bool = False) -> AuditData:
    """Load the task's files leniently and split them as training will."""
    spec = task.data
    options = {**column_options(task), "stop_on_error": stop_on_error}
    paths = {"train": spec.train, "validation": spec.validation, "test": spec.test}
    files = {
        role: load_rows(task.path(path), role=role, **options)  # type: ignore[arg-type]
        for role, path in paths.items()
        if path
    }
    splits = task_splits(
        task,
        files["train"].examples,
        files["validation"].examples if "validation" in files else None,
        files["test"].examples if "test" in files else None,
    )
    findings = [f for loaded in files.values() for f in loaded.findings]
    return AuditData(files=files, splits=splits, findings=findings)
