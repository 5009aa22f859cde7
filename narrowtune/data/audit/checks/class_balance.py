"""Check `class_balance`: too few classes, classes too small for the training mode, imbalance."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from statistics import median

from narrowtune.data.audit.findings import Finding
from narrowtune.data.audit.registry import AuditContext, check
from narrowtune.data.load import Example

# Below these counts a class is unlikely to be learned in that mode (few-shot contrastive
# training pairs examples of a class, so it needs a handful; full fine-tuning needs more).
MIN_PER_CLASS = {"fewshot": 4, "full": 16}
IMBALANCE_RATIO = 10.0


def resolve_mode(counts: Counter[str], mode: str, fewshot_max_per_class: int) -> str:
    """The training mode `auto` resolves to: few-shot when the median class is small."""
    if mode != "auto":
        return mode
    return "fewshot" if counts and median(counts.values()) <= fewshot_max_per_class else "full"


@check(
    "class_balance",
    "too few classes, classes too small for the training mode, heavy imbalance, unused labels",
    fast=True,
    labels=True,
    train_only=True,
)
def class_balance(examples: Sequence[Example], context: AuditContext) -> list[Finding]:
    """Too few classes, classes too small for the mode, heavy imbalance, unused or unknown labels.

    `examples` are the training split (the rows the model will learn from).
    """
    mode, declared_labels = context.mode, context.declared_labels
    counts: Counter[str] = Counter(label for ex in examples for label in ex.labels)
    stats = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    findings: list[Finding] = []
    if len(counts) < 2:
        only = f" ('{next(iter(counts))}')" if counts else ""
        findings.append(
            Finding(
                check="class_balance",
                severity="blocking",
                message=f"the training data has {len(counts)} distinct label(s){only}; "
                "a classifier needs at least 2: add examples of the other class(es)",
                evidence={"counts": stats},
            )
        )
        return findings
    resolved = resolve_mode(counts, mode, context.fewshot_max_per_class)
    lonely = sorted(label for label, c in counts.items() if c < 2)
    if lonely:
        findings.append(
            Finding(
                check="class_balance",
                severity="blocking",
                message=f"{len(lonely)} label(s) have a single training example "
                f"({', '.join(lonely[:5])}); training needs at least 2 per label",
                rows=[ex.where for ex in examples if set(ex.labels) & set(lonely)],
                evidence={"labels": lonely, "counts": stats},
            )
        )
    minimum = MIN_PER_CLASS.get(resolved, 4)
    small = sorted(
        (label for label, c in counts.items() if 2 <= c < minimum), key=lambda k: counts[k]
    )
    if small:
        findings.append(
            Finding(
                check="class_balance",
                severity="warning",
                message=f"{len(small)} label(s) have fewer than {minimum} training examples for "
                f"{resolved} training ({', '.join(f'{k}: {counts[k]}' for k in small[:5])}); "
                "expect poor recall on them",
                evidence={"mode": resolved, "minimum": minimum, "labels": small, "counts": stats},
            )
        )
    largest, smallest = max(counts.values()), min(counts.values())
    if largest / smallest >= IMBALANCE_RATIO:
        top = max(counts, key=lambda k: counts[k])
        bottom = min(counts, key=lambda k: counts[k])
        findings.append(
            Finding(
                check="class_balance",
                severity="warning",
                message=f"classes are imbalanced {largest / smallest:.0f}:1 ('{top}' {largest} "
                f"vs '{bottom}' {smallest}); report macro-F1, and consider more examples of "
                "the rare classes",
                evidence={"ratio": largest / smallest, "counts": stats},
            )
        )
    if declared_labels:
        unused = sorted(set(declared_labels) - set(counts))
        unknown = sorted(set(counts) - set(declared_labels))
        if unknown:
            findings.append(
                Finding(
                    check="class_balance",
                    severity="blocking",
                    message=f"{len(unknown)} label(s) in the data are not in the task's `labels` "
                    f"list ({', '.join(unknown[:5])}); add them there or fix the rows",
                    rows=[ex.where for ex in examples if set(ex.labels) & set(unknown)][:1000],
                    evidence={"labels": unknown},
                )
            )
        if unused:
            findings.append(
                Finding(
                    check="class_balance",
                    severity="warning",
                    message=f"{len(unused)} declared label(s) have no training example "
                    f"({', '.join(unused[:5])}); the model can never predict them",
                    evidence={"labels": unused},
                )
            )
    return findings
