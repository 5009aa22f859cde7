"""Evaluate a fine-tuned generator against its base model prompted zero-shot and few-shot.

Every system answers the same held-out prompts (the test split, at most `generate.eval_limit`)
with the same template, system instruction, token limit, contract and retry policy. Metrics,
all fractions in [0, 1] unless named otherwise:

- `contract_rate_before_retry`: outputs meeting the contract at the first (greedy) attempt;
- `contract_rate`: outputs meeting it after the retries (the rest are returned flagged
  `valid: false` with reasons, so valid-or-flagged is always 100%);
- `chrf`, `rouge_l`: overlap with the reference reply (see `narrowtune.kinds.generate.metrics`);
- `embedding_similarity`: mean cosine similarity of output and reference (all-MiniLM-L6-v2);
- `checker_pass`: outputs the task's checker (`contract.checker`) finds no problem with;
- `style_approved`: share the style judge (a classify run) labels `generate.style_label`;
- `judge_win_rate`: pairwise preference of an LLM judge over the best baseline (only when
  NARROWTUNE_LLM_BASE_URL is set);
- `generate_tokens_per_s`, `mean_attempts`; latency per single call (p50/p95 over a few
  prompts), throughput in outputs per second batched, cost per 1,000 outputs.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from narrowtune.errors import NarrowtuneError
from narrowtune.evaluate.blocks import Cell, Notes, Table
from narrowtune.evaluate.evaluation import (
    Column,
    Evaluation,
    Section,
    SystemResult,
    build_evaluation,
)
from narrowtune.evaluate.lm_systems import few_shot_system, lora_system, zero_shot_system
from narrowtune.evaluate.significance import ItemScores, count_items, mean_items
from narrowtune.kinds.generate.metrics import chrf, chrf_counts, rouge_l
from narrowtune.kinds.generate.model import Checked, GenerateModel, base_card_notes, base_model
from narrowtune.kinds.lm.base import is_bundled
from narrowtune.kinds.lm.template import with_system

if TYPE_CHECKING:
    from narrowtune.data import Example, Splits
    from narrowtune.progress import ProgressFn
    from narrowtune.task import Task

# The same cost model as classify (narrowtune.evaluate.metrics.measure_latency): a machine
# rented at this price, kept busy at the measured batched throughput.
COST_PER_HOUR_USD = 0.10
LATENCY_PROMPTS = 2
SAMPLES_SHOWN = 6
BASELINE_RETRIES = 1


def conversation(messages: Sequence[dict[str, str]], system: str, shots: Sequence[dict[str, str]]):
    """The request for one test example: its turns before the reply, after any few-shot turns."""
    return with_system([*shots, *messages[:-1]], system)


def few_shot_turns(train: Sequence[Example], k: int, seed: int) -> list[dict[str, str]]:
    """k training examples (a fixed random choice) as alternating user/assistant turns."""
    chosen = random.Random(seed).sample(list(train), min(k, len(train)))
    turns: list[dict[str, str]] = []
    for ex in chosen:
        turns += [m for m in ex.target["messages"] if m["role"] != "system"]
    return turns


def style_judge(task: Task) -> tuple[Any, str | None]:
    """The classify model named by `generate.style_judge` (a run directory, or a task file whose
    newest run is used), or None and the reason when that task has no trained run yet."""
    from narrowtune.kinds.classify.model import load
    from narrowtune.task import load_task

    reference = task.path(task.generate.style_judge or "")
    if (reference / "run.json").is_file():
        run = reference
    elif reference.is_file() or (reference / "task.yaml").is_file():
        judge_task = load_task(reference)
        runs = sorted(p for p in judge_task.runs_path.glob("*") if (p / "run.json").is_file())
        if not runs:
            return None, (
                f"style judge skipped: {reference} has no trained run yet; train it with "
                f"`narrowtune train {reference}` and evaluate again"
            )
        run = runs[-1]  # run ids sort by time
    else:
        raise NarrowtuneError(
            f"generate.style_judge: {reference} is neither a run directory nor a task file"
        )
    return load(run / "model"), None


# "A", "B" or "TIE", optionally quoted, bold or after "Reply"; case-sensitive, so that an
# answer opening with the article "a" is not read as a vote.
JUDGE_ANSWER = re.compile(r"[\W_]*(?:Reply\s+)?(A|B|TIE|Tie)\b")


def pairwise_judge(
    prompts: Sequence[str],
    references: Sequence[str],
    ours: Sequence[str],
    theirs: Sequence[str],
    seed: int,
) -> tuple[float | None, int]:
    """Share of prompts where an LLM judge prefers `ours` (ties count half), over the answers
    that name A, B or TIE, and how many answers did not; (None, 0) if no endpoint is set.
    Which reply is shown first is drawn at random per prompt (position bias)."""
    from narrowtune.evaluate.llm import Endpoint, complete

    endpoint = Endpoint.from_env()
    if endpoint is None:
        return None, 0
    client = endpoint.client()
    model = endpoint.model_name(client)
    rng = random.Random(seed)
    wins = 0.0
    answered = unparsed = 0
    for prompt, reference, a, b in zip(prompts, references, ours, theirs):
        swap = rng.random() < 0.5
        first, second = (b, a) if swap else (a, b)
        answer = complete(
            client,
            model,
            [
                {
                    "role": "user",
                    "content": "Which reply answers the request better, closest in content and "
                    "format to the reference? Answer with exactly A, B or TIE.\n\n"
                    f"Request:\n{prompt}\n\nReference:\n{reference}\n\nReply A:\n{first}\n\n"
                    f"Reply B:\n{second}",
                }
            ],
            max_tokens=4,
        )
        found = JUDGE_ANSWER.match(answer)
        if found is None:
            unparsed += 1
            continue
        answered += 1
        verdict = found.group(1).upper()
        if verdict == "TIE":
            wins += 0.5
        elif (verdict == "A") != swap:
            wins += 1.0
    return (wins / answered if answered else None), unparsed


def grammar_policy(model: GenerateModel) -> str:
    """One sentence on grammar-constrained decoding, for the report and the model card."""
    when = {
        "always": "every generation is grammar-constrained",
        "retry": "retries are grammar-constrained",
    }
    contract = model.contract
    if contract.grammar is None:
        return f"no grammar-constrained decoding: {contract.grammar_note}."
    what = "JSON Schema" if contract.schema is not None else "regex"
    return f"{when[contract.constrain]} to the contract's {what} (llguidance)."


def _latency(model: GenerateModel, requests: list[list[dict[str, str]]]) -> dict[str, float]:
    times = []
    for request in requests[:LATENCY_PROMPTS]:
        began = time.perf_counter()
        model.generate_checked([request], retry=False)
        times.append((time.perf_counter() - began) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95))}


def score_outputs(
    model: GenerateModel,
    checked: Sequence[Checked],
    references: Sequence[str],
    *,
    encoder: Any,
    judge: Any,
    style_label: str,
) -> dict[str, Any]:
    outputs = [c.text for c in checked]
    seconds = sum(c.seconds for c in checked)
    tokens = sum(c.completion_tokens for c in checked)
    metrics: dict[str, Any] = {
        "n": len(checked),
        "contract_rate_before_retry": float(np.mean([not c.first_problems for c in checked])),
        "contract_rate": float(np.mean([c.valid for c in checked])),
        "valid_or_flagged": 1.0,  # every output carries valid + problems by construction
        "chrf": chrf(outputs, references),
        "rouge_l": rouge_l(outputs, references),
        "mean_attempts": float(np.mean([c.attempts for c in checked])),
        "mean_output_tokens": tokens / max(len(checked), 1),
        "generate_tokens_per_s": tokens / seconds if seconds > 0 else None,
        "seconds": seconds,
    }
    if encoder is not None:
        a = encoder.encode([o or " " for o in outputs])
        b = encoder.encode(list(references))
        metrics["embedding_similarity"] = float(np.mean(np.sum(a * b, axis=1)))
    if model.contract.has_checker:
        metrics["checker_pass"] = float(
            np.mean([not model.contract.checker_problems(o) for o in outputs])
        )
    if judge is not None:
        labels = [p.label for p in judge.predict([o or " " for o in outputs])]
        metrics["style_approved"] = float(np.mean([label == style_label for label in labels]))
    return metrics


def generation_items(
    metric: str, checked: Sequence[Checked], references: Sequence[str]
) -> ItemScores | None:
    """Per-output statistics of `metric`, for the margin's interval (None for another metric)."""
    outputs = [c.text for c in checked]
    if metric in ("contract_rate", "contract_rate_before_retry"):
        ok = [c.valid if metric == "contract_rate" else not c.first_problems for c in checked]
        return mean_items([float(x) for x in ok], ok)
    if metric == "rouge_l":
        return mean_items([rouge_l([o], [r]) for o, r in zip(outputs, references)])
    if metric == "chrf":
        per_item = [list(zip(*chrf_counts(o, r))) for o, r in zip(outputs, references)]
        return count_items("chrf", per_item)
    return None


PRETRAINED_NOTE = (
    "The bundled Gemma 3 270M is a pretrained model, not an instruction-tuned one: 'base, "
    "zero-shot' and the few-shot row are the weakest prompted alternative, not what a prompted "
    "instruction-tuned LLM would do. For the comparison you would actually make, point "
    "NARROWTUNE_LLM_BASE_URL (with NARROWTUNE_LLM_MODEL, NARROWTUNE_LLM_API_KEY) at any "
    "OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp, a hosted API): the evaluation then adds "
    "a 'prompted LLM' row with the same instruction and contract."
)


def retrieval_outputs(
    encoder: Any, train: Sequence[Example], test: Sequence[Example], model: GenerateModel
) -> list[Checked]:
    """The retrieval baseline: each test prompt answered with the approved reply of the most
    similar training prompt (cosine similarity of all-MiniLM-L6-v2 embeddings), checked against
    the same contract. Its confidence is that similarity; `seconds` is the lookup's share."""
    replies = [ex.target["messages"][-1]["content"] for ex in train]
    train_emb = encoder.encode([ex.text for ex in train])
    out = []
    for ex in test:
        began = time.perf_counter()
        sims = train_emb @ encoder.encode([ex.text])[0]
        best = int(np.argmax(sims))
        seconds = time.perf_counter() - began
        problems = model.contract.check(replies[best])
        out.append(
            Checked(
                text=replies[best],
                confidence=float(sims[best]),
                problems=problems,
                first_problems=problems,
                attempts=1,
                prompt_tokens=0,
                completion_tokens=0,
                finish_reason="retrieved",
                seconds=seconds,
            )
        )
    return out


def llm_outputs(
    model: GenerateModel, requests: Sequence[list[dict[str, str]]]
) -> tuple[str, str, list[Checked]] | None:
    """The prompted-LLM baseline when NARROWTUNE_LLM_BASE_URL names an OpenAI-compatible
    endpoint: (model name, endpoint, one checked output per request), the same conversation
    and token limit as every other system, temperature 0, no retries; None without an endpoint.
    A failed call raises `LLMError` (the evaluation notes it)."""
    from narrowtune.evaluate.llm import Endpoint, complete

    endpoint = Endpoint.from_env()
    if endpoint is None:
        return None
    client = endpoint.client()
    name = endpoint.model_name(client)
    out = []
    for request in requests:
        began = time.perf_counter()
        text = complete(client, name, request, max_tokens=model.config.max_new_tokens)
        seconds = time.perf_counter() - began
        problems = model.contract.check(text)
        out.append(
            Checked(
                text=text,
                confidence=float("nan"),
                problems=problems,
                first_problems=problems,
                attempts=1,
                prompt_tokens=0,
                completion_tokens=0,
                finish_reason="stop",
                seconds=seconds,
            )
        )
    return name, endpoint.base_url, out


def _fixed_system(
    name: str,
    description: str,
    results: list[Checked],
    wall: float,
    metrics: dict[str, Any],
    items: ItemScores | None,
) -> SystemResult:
    """A baseline whose outputs did not come from a local generator (retrieval, a prompted
    LLM behind an endpoint): latency per call and throughput from the calls' own times."""
    metrics["generate_tokens_per_s"] = None  # no local tokens counted
    calls = [1000 * c.seconds for c in results]
    return SystemResult(
        name=name,
        role="baseline",
        description=description,
        metrics=metrics,
        train_seconds=0.0,
        latency={
            "p50_ms": float(np.percentile(calls, 50)),
            "p95_ms": float(np.percentile(calls, 95)),
            "throughput_per_s": len(results) / wall if wall > 0 else None,
        },
        items=items,
    )


def _price_failures(
    task: Task, systems: list[SystemResult], checked: dict[str, list[Checked]]
) -> dict[str, Any]:
    """metrics["cost"] of every system (in place) and the costs' details: an output that still
    breaks its contract costs `costs.contract_failure` when shipped, a review when the flagged
    output is reviewed instead ('target-precision threshold' column)."""
    from narrowtune.evaluate.costs import cheapest_system, item_costs

    costs = task.costs
    assert costs is not None
    each = costs.default if costs.contract_failure is None else costs.contract_failure
    for system in systems:
        results = checked[system.name]
        errors = np.array([0.0 if c.valid else each for c in results])
        answered = np.array([c.valid for c in results], dtype=bool)
        system.metrics["cost"] = item_costs(errors, answered, costs.review, costs.unit)
    fine = checked[systems[0].name]
    failed = sum(not c.valid for c in fine)
    confusions = (
        [
            {
                "gold": "contract",
                "predicted": "broken after retries",
                "count": failed,
                "cost_each": each,
                "per_1k": 1000 * failed * each / max(len(fine), 1),
            }
        ]
        if failed
        else []
    )
    return {
        "unit": costs.unit,
        "review": costs.review,
        "default": costs.default,
        "declared": {"contract_failure": each},
        "confusions": confusions,
        "cheapest": cheapest_system(systems),
        "notes": [
            f"an output that breaks its contract after the retries costs {each:g} when shipped; "
            f"reviewing it instead costs {costs.review:g} ('target-precision threshold' column)"
        ],
    }


def _failure_table(systems: list[SystemResult], checked: dict[str, list[Checked]]) -> Table:
    rows = []
    for system in systems:
        reasons: Counter[str] = Counter()
        for c in checked[system.name]:
            for problem in c.problems:
                reasons[problem.split(" (pattern")[0]] += 1
        top = "; ".join(f"{r} ×{n}" for r, n in reasons.most_common(6)) or "none"
        rows.append((system.name, sum(not c.valid for c in checked[system.name]), top))
    return Table(
        headers=("system", "invalid", "most common reasons"),
        rows=tuple(rows),
        lead="Outputs still failing the contract after retries, and why (each is returned with "
        "valid: false and its reasons, never silently).",
    )


def _samples_table(
    test: Sequence[Example], systems: list[SystemResult], checked: dict[str, list[Checked]]
) -> Table:
    rows = []
    for i, ex in enumerate(test[:SAMPLES_SHOWN]):
        cells: list[Any] = [
            Cell(ex.text, style="pre"),
            Cell(ex.target["messages"][-1]["content"], style="pre"),
        ]
        for s in systems:
            c = checked[s.name][i]
            mark = "✓ valid" if c.valid else "✗ " + "; ".join(c.problems[:3])
            cells.append(Cell(c.text, style="pre", note=mark))
        rows.append(tuple(cells))
    return Table(headers=("prompt", "reference", *(s.name for s in systems)), rows=tuple(rows))


def evaluate(
    task: Task,
    model: GenerateModel,
    splits: Splits,
    *,
    baselines: bool = True,
    latency: bool = True,
    train_seconds: float | None = None,
    progress: ProgressFn | None = None,
) -> Evaluation:
    """Fine-tuned vs the base model prompted zero- and few-shot on the same held-out prompts."""
    spec = task.generate
    test = list(splits.test[: spec.eval_limit] if spec.eval_limit else splits.test)
    if not test:
        raise NarrowtuneError("the test split is empty: give data.test or set split.test > 0")
    references = [ex.target["messages"][-1]["content"] for ex in test]
    system_prompt = model.config.system
    notes: list[str] = []

    encoder = None
    try:
        from narrowtune.encoders import Encoder

        encoder = Encoder.from_pretrained("all-MiniLM-L6-v2", max_length=256)
    except NarrowtuneError as exc:
        notes.append(f"embedding similarity skipped: {exc}")
    judge = None
    if spec.style_judge:
        judge, skipped = style_judge(task)
        if skipped:
            notes.append(skipped)

    candidates: list[tuple[SystemResult, GenerateModel, list[dict[str, str]], int | None]] = [
        (
            lora_system(
                model.config,
                f"contract retries {model.contract.retries}"
                + ("; run on llama.cpp (GGUF), baselines on transformers" if model.runner else ""),
                train_seconds,
            ),
            model,
            [],
            None,
        )
    ]
    if baselines:
        base = base_model(task)
        base.config.system = system_prompt
        shots = few_shot_turns(splits.train, spec.few_shot, task.seed)
        retries = min(BASELINE_RETRIES, model.contract.retries)
        candidates.append(
            (
                zero_shot_system(
                    base.config.base,
                    f"prompted with the task's instruction; contract retries {retries}",
                ),
                base,
                [],
                retries,
            )
        )
        if spec.few_shot:
            candidates.append(
                (
                    few_shot_system(
                        base.config.base, spec.few_shot, f"; contract retries {retries}"
                    ),
                    base,
                    shots,
                    retries,
                )
            )
        notes.append(
            f"Baselines get {retries} contract retry (the fine-tuned model "
            f"{model.contract.retries}): base-model outputs rarely stop on their own, so each "
            "retry costs a full max_new_tokens generation on CPU."
        )

    systems: list[SystemResult] = []
    checked: dict[str, list[Checked]] = {}
    for number, (result, system, shots, retries) in enumerate(candidates, start=1):
        requests = [conversation(ex.target["messages"], system_prompt, shots) for ex in test]
        if progress:  # one bar over every system's prompts, moved as each system finishes
            progress("generate", (number - 1) * len(test), len(candidates) * len(test))
        began = time.perf_counter()
        results = system.generate_checked(requests, retries=retries)
        wall = time.perf_counter() - began
        metrics = score_outputs(
            system, results, references, encoder=encoder, judge=judge, style_label=spec.style_label
        )
        throughput = len(results) / wall if wall > 0 else None
        lat: dict[str, Any] | None = None
        if latency:
            lat = _latency(system, requests)
        if throughput:
            lat = {
                **(lat or {}),
                "throughput_per_s": throughput,
                "cost_per_1k_usd": COST_PER_HOUR_USD / 3600 / throughput * 1000,
            }
        result.metrics, result.latency = metrics, lat
        result.items = generation_items(task.metric, results, references)
        systems.append(result)
        checked[result.name] = results
        if progress:
            progress("generate", number * len(test), len(candidates) * len(test))

    scoring = {"encoder": encoder, "judge": judge, "style_label": spec.style_label}
    if baselines and encoder is not None and splits.train:
        began = time.perf_counter()
        results = retrieval_outputs(encoder, splits.train, test, model)
        retrieval = _fixed_system(
            "retrieval (nearest training reply)",
            "answers with the approved reply of the most similar training prompt "
            "(all-MiniLM-L6-v2 cosine); no generation",
            results,
            time.perf_counter() - began,
            score_outputs(model, results, references, **scoring),
            generation_items(task.metric, results, references),
        )
        systems.append(retrieval)
        checked[retrieval.name] = results
    if baselines:
        from narrowtune.evaluate.llm import SKIPPED, LLMError

        requests = [conversation(ex.target["messages"], system_prompt, []) for ex in test]
        began = time.perf_counter()
        try:
            prompted = llm_outputs(model, requests)
        except LLMError as exc:
            prompted = None
            notes.append(f"prompted-LLM baseline failed: {exc}")
        else:
            if prompted is None:
                notes.append(SKIPPED)
        if prompted is not None:
            llm_name, url, results = prompted
            llm = _fixed_system(
                f"prompted LLM ({llm_name})",
                f"the task's instruction and the same conversation via {url}, temperature 0, "
                "no contract retries",
                results,
                time.perf_counter() - began,
                score_outputs(model, results, references, **scoring),
                generation_items(task.metric, results, references),
            )
            systems.append(llm)
            checked[llm.name] = results

    prompts = [ex.text for ex in test]
    if len(systems) > 1:
        best = max(systems[1:], key=lambda s: s.metrics[task.metric])
        win, unparsed, failed = None, 0, False
        try:
            win, unparsed = pairwise_judge(
                prompts,
                references,
                [c.text for c in checked[systems[0].name]],
                [c.text for c in checked[best.name]],
                task.seed,
            )
        except NarrowtuneError as exc:
            failed = True
            notes.append(f"pairwise LLM judge failed: {exc}")
        if unparsed:
            notes.append(
                f"pairwise LLM judge: {unparsed} of {len(prompts)} answers named none of A, B "
                "or TIE and were left out of judge_win_rate."
            )
        if win is not None:
            systems[0].metrics["judge_win_rate"] = win
            notes.append(f"judge_win_rate: LLM judge preference over '{best.name}'.")
        elif not failed and not unparsed:
            notes.append(
                "pairwise LLM judge skipped: set NARROWTUNE_LLM_BASE_URL to an "
                "OpenAI-compatible endpoint to add it."
            )

    details: dict[str, Any] = {}
    if task.costs is not None:
        details["costs"] = _price_failures(task, systems, checked)
    columns = [
        Column("contract_rate_before_retry", "contract % (1st try)", "pct"),
        Column("contract_rate", "contract % (after retry)", "pct"),
        Column("chrf", "chrF", "pct"),
        Column("rouge_l", "ROUGE-L", "pct"),
        Column("embedding_similarity", "emb. sim.", "num"),
    ]
    if model.contract.has_checker:
        columns.append(Column("checker_pass", "checker pass %", "pct"))
    if judge is not None:
        columns.append(Column("style_approved", "on-style %", "pct"))
    if "judge_win_rate" in systems[0].metrics:
        columns.append(Column("judge_win_rate", "judge win %", "pct"))
    columns += [
        Column("generate_tokens_per_s", "tokens/s", "int"),
        Column("latency.p50_ms", "p50 ms", "ms"),
        Column("latency.throughput_per_s", "outputs/s", "num"),
        Column("train_seconds", "train s", "int"),
    ]
    notes += [
        f"Retry policy: {model.contract.retries} extra attempt(s) for an output that breaks the "
        "contract, greedy with forbidden phrases banned first (sampled where that would repeat "
        f"the first try), then sampled (T=0.7, top-p 0.95); {grammar_policy(model)}",
        f"Confidence: {model.config.confidence}.",
        *base_card_notes(model.config.base),
    ]
    if baselines and is_bundled(model.config.base):
        notes.insert(0, PRETRAINED_NOTE)
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
                "generate-samples", "Outputs side by side", _samples_table(test, systems, checked)
            ),
            Section("generate-contract", "Contract failures", _failure_table(systems, checked)),
            Section("generate-notes", "How this was measured", Notes(tuple(notes))),
        ],
        notes=notes,
        details={
            **details,
            "outputs": [
                {
                    "prompt": ex.text,
                    "reference": ref,
                    **{s.name: checked[s.name][i].text for s in systems},
                }
                for i, (ex, ref) in enumerate(zip(test, references))
            ],
        },
    )
