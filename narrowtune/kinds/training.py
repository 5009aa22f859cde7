"""Training pieces the kinds share: seeding, length-bucketed batches, padding, the learning-rate
schedule, layer-wise learning rates, time budgets, and how batches are shared between processes.

Every loop over training steps here ends: an epoch that yields no batch is an error, never an
empty pass that spins, and a run with fewer batches than processes is refused before anything
is launched (`check_processes`).
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from narrowtune.errors import NarrowtuneError

if TYPE_CHECKING:
    from narrowtune.task import TrainSpec

# Batches are built from chunks of this many batches' worth of examples, sorted by length
# inside each chunk: little padding, yet batch membership still changes every epoch.
BUCKET_CHUNK = 50
_LAYER = re.compile(r"\.(?:layer|layers|h|block)\.(\d+)\.")


class TrainingError(NarrowtuneError):
    """Training options that cannot work with this data (say which and what to change)."""


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (every randomness path takes `seed`)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def bucketed_batches(
    lengths: Sequence[int], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Batches of similar-length examples (indices), in random order; membership varies by
    epoch."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * BUCKET_CHUNK
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def count_batches(n_examples: int, batch_size: int) -> int:
    """How many batches `bucketed_batches` makes of `n_examples` (the same for every epoch)."""
    chunk = batch_size * BUCKET_CHUNK
    full, rest = divmod(n_examples, chunk)
    return full * BUCKET_CHUNK + math.ceil(rest / batch_size)


def check_processes(n_examples: int, batch_size: int, processes: int) -> None:
    """Refuse a multi-process run in which some process would get no batch."""
    batches = count_batches(n_examples, batch_size)
    if batches < processes:
        raise TrainingError(
            f"{n_examples} training examples make {batches} batch(es) of up to {batch_size}, "
            f"fewer than the {processes} training processes: every process needs at least one "
            f"batch per epoch. Lower train.batch_size to {max(1, n_examples // processes)} or "
            f"below, or train in {max(1, batches)} process(es)."
        )


def shard(batches: list[list[int]], world: int, rank: int) -> list[list[int]]:
    """This process's share of an epoch's batches: every process gets the same number (the
    remainder is dropped), at least one (fewer batches than processes is an error)."""
    if len(batches) < world:
        raise TrainingError(
            f"{len(batches)} batch(es) cannot be shared by {world} processes (see check_processes)"
        )
    return batches[: len(batches) // world * world][rank::world]


def epoch_loop(
    total_steps: int, make_epoch: Callable[[], list[list[int]]], budget: TimeBudget
) -> Iterator[list[list[int]]]:
    """The batches of each epoch until `total_steps` batches have been handed out or the time
    budget is spent; the last epoch is cut to what is left. An epoch without batches raises
    instead of looping for ever."""
    handed = 0
    while handed < total_steps and not budget.expired():
        batches = make_epoch()[: total_steps - handed]
        if not batches:
            raise TrainingError("an epoch produced no training batch; is the training set empty?")
        yield batches
        handed += len(batches)


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded token ids and their attention mask, as long tensors."""
    width = max(len(seq) for seq in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        input_ids[row, : len(seq)] = torch.tensor(list(seq), dtype=torch.long)
        mask[row, : len(seq)] = 1
    return input_ids, mask


def warmup_schedule(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_ratio: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup over the first `warmup_ratio` of the steps, then linear decay to 0."""
    warmup = int(total_steps * warmup_ratio)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def layerwise_groups(net: nn.Module, options: TrainSpec) -> list[dict[str, Any]]:
    """AdamW parameter groups for an encoder (`net.encoder.transformer`) with heads
    (`net.head`): the heads at their own rate, the top encoder layer at the full rate and each
    layer below at `layer_decay` times the one above; no weight decay on biases and norms."""
    params = [
        (n, p)
        for n, p in net.encoder.transformer.named_parameters()  # type: ignore[union-attr]
        if p.requires_grad
    ]
    layers = [int(m.group(1)) + 1 for n, _ in params if (m := _LAYER.search(f".{n}"))]
    above = max(layers, default=0) + 1  # anything after the last layer (e.g. a final norm)

    def depth(name: str) -> int:
        match = _LAYER.search(f".{name}")
        return int(match.group(1)) + 1 if match else (0 if "embed" in name else above)

    top = max(depth(n) for n, _ in params)  # the highest trainable part gets the full rate
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, param in params:
        lr = options.learning_rate * options.layer_decay ** (top - depth(name))
        decay = 0.0 if param.ndim == 1 else options.weight_decay
        groups.setdefault((lr, decay), []).append(param)
    out = [{"params": p, "lr": lr, "weight_decay": wd} for (lr, wd), p in groups.items()]
    out.append(
        {
            "params": list(net.head.parameters()),  # type: ignore[union-attr]
            "lr": options.head_learning_rate,
            "weight_decay": 0.0,
        }
    )
    return out


class TimeBudget:
    """`train.max_minutes` as a deadline; no limit when None. `start()` begins the clock (so
    time spent before the first step, such as loading, is not counted)."""

    def __init__(self, max_minutes: float | None) -> None:
        self.seconds = 60 * max_minutes if max_minutes else None
        self.deadline: float | None = None
        self.start()

    def start(self) -> None:
        self.deadline = time.monotonic() + self.seconds if self.seconds else None

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline
