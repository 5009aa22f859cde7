"""Grammar-constrained decoding vs check-and-retry: JSON triage of wallet tickets by the base model.

    OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/generate_constrained.py

The bundled Gemma 3 270M base, prompted zero-shot (no fine-tuning), must answer each held-out
ticket of the wallet-support demo (`examples/wallet_support/`, the classify task's own seeded test
split) with one JSON object valid against a schema: the ticket's intent (one of the 12 labels),
an `urgent` flag and a short summary. Three contract policies on the same tickets, all through
`GenerateModel.generate_checked`:

- `constrain: never`, 2 retries: check, then regenerate (sampled, as nothing is banned);
- `constrain: retry`, 1 retry: check, then regenerate inside the schema's grammar (llguidance);
- `constrain: always`: every generation inside the grammar.

Reported: schema-valid share before and after retries, intent accuracy of the final outputs
against the labels (a wrong or invalid answer counts as wrong), wall seconds per ticket
(retries included), the grammar's own cost per decoding step, and for context the frozen
MiniLM + logistic-regression classifier fitted on the same task's train split (the demo's
baseline row). With llama-cpp-python installed it also runs the GGUF on llama.cpp,
unconstrained and constrained, for validity and decode tokens/s there.
Writes benchmarks/results/generate_constrained.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lm_common import RESULTS, ROOT, provenance

TASK = ROOT / "narrowtune" / "demo" / "task.yaml"


def triage_schema(labels: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "intent": {"enum": labels},
            "urgent": {"type": "boolean"},
            "summary": {"type": "string", "minLength": 3, "maxLength": 80},
        },
        "required": ["intent", "urgent", "summary"],
        "additionalProperties": False,
    }


def system_prompt(descriptions: dict[str, str]) -> str:
    lines = "\n".join(f"- {name}: {text}" for name, text in descriptions.items())
    return (
        "You triage support tickets for a crypto wallet. Reply with one JSON object and nothing "
        'else: {"intent": <one of the intents below>, "urgent": true or false, "summary": '
        "<at most 80 characters>}.\nIntents:\n" + lines
    )


def intent_of(text: str) -> str | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value.get("intent") if isinstance(value, dict) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=32, help="test tickets used")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    RESULTS.mkdir(parents=True, exist_ok=True)

    from narrowtune.data import load_splits
    from narrowtune.kinds.generate.contract import Contract
    from narrowtune.kinds.generate.model import GenerateConfig, GenerateModel, load_base
    from narrowtune.kinds.lm.base import DEFAULT_GENERATE_BASE
    from narrowtune.task import load_task

    task = load_task(TASK)
    splits = load_splits(task)
    test = splits.test[: args.tickets]
    descriptions = dict(task.labels or {})
    labels = list(descriptions)
    schema = triage_schema(labels)
    system = system_prompt(descriptions)
    truth = [ex.label for ex in test]

    lm, tokenizer, _ = load_base(DEFAULT_GENERATE_BASE)
    config = GenerateConfig(
        base=DEFAULT_GENERATE_BASE,
        system=system,
        max_new_tokens=args.max_new_tokens,
        fine_tuned=False,
    )
    policies = {
        "never": {"json_schema": schema, "constrain": "never", "retries": 2},
        "retry": {"json_schema": schema, "constrain": "retry", "retries": 1},
        "always": {"json_schema": schema, "constrain": "always", "retries": 0},
    }
    result: dict[str, Any] = {
        "model": "gemma-3-270m (base, zero-shot, transformers float32)",
        "tickets": len(test),
        "intents": len(labels),
        "max_new_tokens": args.max_new_tokens,
        "threads": args.threads,
    }
    for name, contract in policies.items():
        model = GenerateModel(lm, tokenizer, config, Contract(contract))
        conversations = [model.messages_for(ex.text) for ex in test]
        if name != "never":  # build llguidance's tokenizer outside the timing (3 s, once)
            model._matchers(1)
        began = time.perf_counter()
        checked = model.generate_checked(conversations, batch_size=1)
        seconds = time.perf_counter() - began
        final_intents = [intent_of(c.text) if c.valid else None for c in checked]
        result |= {
            f"{name}_valid_first_try": round(
                sum(not c.first_problems for c in checked) / len(test), 4
            ),
            f"{name}_valid_after_retry": round(sum(c.valid for c in checked) / len(test), 4),
            f"{name}_intent_accuracy": round(
                sum(p == t for p, t in zip(final_intents, truth)) / len(test), 4
            ),
            f"{name}_mean_attempts": round(sum(c.attempts for c in checked) / len(test), 3),
            f"{name}_seconds_per_ticket": round(seconds / len(test), 2),
        }
        print(name, {k: v for k, v in result.items() if k.startswith(name)}, flush=True)
        if name == "always":
            result["grammar_ms_per_token"] = grammar_cost(model, [c.text for c in checked])
            samples = [
                {"ticket": ex.text, "label": ex.label, "output": c.text}
                for ex, c in zip(test, checked)
            ]
            (RESULTS / "generate_constrained_outputs.jsonl").write_text(
                "".join(json.dumps(s) + "\n" for s in samples)
            )

    result["logreg_intent_accuracy"] = round(logreg_accuracy(task, splits, test), 4)

    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        print("llama-cpp-python not installed: llama.cpp rows skipped", flush=True)
    else:
        result |= llamacpp_rows(test, system, Contract(policies["always"]), args)
    result |= provenance()
    (RESULTS / "generate_constrained.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def grammar_cost(model: Any, outputs: list[str]) -> float:
    """Milliseconds per token that the grammar adds to a decoding step (the mask over Gemma's
    262k-token vocabulary, then taking the token), replayed over the constrained outputs."""
    width = int(model.lm.get_output_embeddings().weight.shape[0])
    steps, seconds = 0, 0.0
    for text in outputs:
        [matcher] = model._matchers(1)
        for token in model.tokenizer(text, add_special_tokens=False).input_ids:
            began = time.perf_counter()
            matcher.allowed(width)
            matcher.advance(token)
            seconds += time.perf_counter() - began
            steps += 1
    return round(seconds / steps * 1000, 3)


def logreg_accuracy(task: Any, splits: Any, test: list) -> float:
    """The demo's frozen MiniLM + logistic-regression baseline row, as `narrowtune eval`
    computes it (fitted on the train split, calibrated on validation), on the same tickets."""
    from dataclasses import replace

    from narrowtune.evaluate.classify import baseline_systems

    labels = sorted({ex.label for ex in splits.train})
    systems = baseline_systems(task, replace(splits, test=test), labels, False, None, False)
    [logreg] = [s for s in systems if "logistic regression" in s.name]
    return logreg.metrics["accuracy"]


def llamacpp_rows(test: list, system: str, contract: Any, args: argparse.Namespace) -> dict:
    """The bundled Q4_K_M GGUF on llama.cpp, greedy, without and with the grammar. Decode speed
    leaves out prompt evaluation (timed per ticket with a one-token reply), since constrained
    replies are shorter and would otherwise carry more of the prompt's cost per token."""
    from narrowtune.kinds.generate.llamacpp import GgufGenerator
    from narrowtune.kinds.lm.base import gguf_file
    from narrowtune.kinds.lm.grammar import GrammarMatcher, llamacpp_tokenizer

    out: dict[str, Any] = {}
    with GgufGenerator(gguf_file(), n_ctx=2048, n_threads=args.threads, system=system) as runner:
        tokenizer = llamacpp_tokenizer(runner.llm, sorted(runner.stops))
        messages = [[{"role": "user", "content": ex.text}] for ex in test]
        # Warm up on the last ticket so that every timed call, probe or reply, starts from a
        # cache holding the system prompt and another ticket, as the replies below do.
        runner.complete(messages[-1], max_new_tokens=1)
        prompt_seconds = 0.0
        for conversation in messages:
            began = time.perf_counter()
            runner.complete(conversation, max_new_tokens=1)
            prompt_seconds += time.perf_counter() - began
        for name, constrained in (("llamacpp_free", False), ("llamacpp_constrained", True)):
            valid = tokens = 0
            seconds = 0.0
            for conversation in messages:
                grammar = GrammarMatcher(tokenizer, contract.grammar) if constrained else None
                began = time.perf_counter()
                text, _, _, n, finish = runner.complete(
                    conversation, max_new_tokens=args.max_new_tokens, grammar=grammar
                )
                seconds += time.perf_counter() - began
                tokens += n
                valid += not contract.check(text) and finish == "stop"
            out[f"{name}_valid"] = round(valid / len(test), 4)
            out[f"{name}_tokens"] = tokens
            out[f"{name}_decode_tokens_per_s"] = round(
                (tokens - len(test)) / (seconds - prompt_seconds), 2
            )
            print(name, valid, tokens, round(seconds, 1), flush=True)
        out["llamacpp_prompt_seconds_per_ticket"] = round(prompt_seconds / len(test), 3)
    out["llamacpp_constrained_speed_ratio"] = round(
        out["llamacpp_constrained_decode_tokens_per_s"] / out["llamacpp_free_decode_tokens_per_s"],
        3,
    )
    return out


if __name__ == "__main__":
    main()
