"""Regenerate the figure tables of BENCHMARKS.md from benchmarks/results/*.json.

    python benchmarks/render.py          # rewrite BENCHMARKS.md between the GENERATED markers
    python benchmarks/render.py --check  # exit 1 if BENCHMARKS.md is out of date

Hand-written prose lives outside the markers; every figure inside them comes from a results file,
with that file's command, date and machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "BENCHMARKS.md"
BEGIN = "<!-- GENERATED: do not edit below; run python benchmarks/render.py -->"
END = "<!-- END GENERATED -->"


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _row(cells: Sequence[object]) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]] = ()) -> list[str]:
    """A Markdown table's lines: the header, its separator, then the rows."""
    return [_row(headers), "|" + "---|" * len(headers), *(_row(r) for r in rows)]


def render_file(path: Path) -> str:
    data = json.loads(path.read_text())
    meta = {k: data.pop(k, None) for k in ("command", "date", "machine")}
    lines = [
        f"### `{path.name}`",
        "",
        f"- command: `{meta['command']}`",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}",
        "",
        *_table(
            ("key", "value"),
            ((k, _value(json.dumps(v) if isinstance(v, dict) else v)) for k, v in data.items()),
        ),
    ]
    return "\n".join(lines) + "\n"


# Headline figures: (results file, key, what it is, the target it is held against).
# The longer generate runs: common rows, plus each example's own check.
LONG_RUNS = (
    ("generate_wallet_replies_40min.json", "Wallet replies, 40-min run", ()),
    ("generate_code_migration_40min.json", "Code migration, 40-min run", ("checker_pass",)),
    ("generate_brand_voice_35min.json", "Brand voice, 35-min run", ("style_approved",)),
)
LONG_RUN_ROWS = (
    ("train_steps", "LoRA steps", "report"),
    ("contract_rate_before_retry", "contract compliance, fine-tuned", "report"),
    ("contract_rate_after_retry", "contract compliance after retry, fine-tuned", "report"),
    (
        "base_few_shot_contract_rate_before_retry",
        "contract compliance, prompted base few-shot",
        "baseline",
    ),
    ("chrf", "chrF, fine-tuned", "report"),
    ("base_few_shot_chrf", "chrF, prompted base few-shot", "baseline"),
)
EXTRA_LABELS = {
    "checker_pass": "node --check + v5 scan pass, fine-tuned",
    "style_approved": "on-style (style judge), fine-tuned",
}

HEADLINES = [
    (
        "banking77_full.json",
        "fine_tuned_accuracy",
        "BANKING77 full: fine-tuned accuracy",
        ">= 93.7",
    ),
    (
        "banking77_full.json",
        "logreg_accuracy",
        "BANKING77 full: frozen embeddings + LR",
        "baseline",
    ),
    (
        "banking77_full.json",
        "margin_over_logreg_points",
        "BANKING77 full: margin over LR (points)",
        ">= 0.7",
    ),
    ("banking77_full.json", "train_seconds", "BANKING77 full: training seconds", "<= 1200"),
    (
        "banking77_full.json",
        "fine_tuned_ece",
        "BANKING77 full: ECE after temperature scaling",
        "<= 0.03",
    ),
    (
        "banking77_full.json",
        "fine_tuned_coverage_at_99_precision",
        "BANKING77 full: test coverage at the 99%-precision threshold (%)",
        "report",
    ),
    (
        "banking77_10shot.json",
        "accuracy",
        "BANKING77 10-shot: fine-tuned accuracy (mean of draws)",
        ">= 86.0",
    ),
    ("banking77_10shot.json", "accuracy_std", "BANKING77 10-shot: std over draws", "report"),
    (
        "banking77_10shot.json",
        "logreg_accuracy",
        "BANKING77 10-shot: frozen embeddings + LR",
        "baseline",
    ),
    (
        "banking77_10shot.json",
        "train_seconds",
        "BANKING77 10-shot: training seconds (mean)",
        "<= 60",
    ),
    ("banking77_10shot.json", "fine_tuned_ece", "BANKING77 10-shot: ECE (mean)", "<= 0.03"),
    (
        "fast_inference.json",
        "onnx_int8_speedup",
        "ONNX int8 throughput / plain eager torch",
        ">= 2",
    ),
    (
        "fast_inference.json",
        "accuracy_delta_points",
        "ONNX int8 accuracy change (points)",
        ">= -0.5",
    ),
    ("audit_banking77_noise5.json", "precision", "Audit, 5% flips: precision", ">= 0.80"),
    ("audit_banking77_noise5.json", "recall", "Audit, 5% flips: recall", ">= 0.90"),
    (
        "audit_banking77_noise5.json",
        "audit_seconds",
        "Audit, 5% flips: whole audit seconds",
        "<= 180",
    ),
    (
        "snips_batch16.json",
        "slot_f1",
        "SNIPS joint: slot F1 (extract, MiniLM, batch 16)",
        ">= 95.0",
    ),
    ("snips_batch16.json", "intent_accuracy", "SNIPS joint: intent accuracy (batch 16)", ">= 97.5"),
    ("snips_batch16.json", "schema_validity", "SNIPS joint: schema-valid outputs (%)", "100.0"),
    ("snips_batch16.json", "train_seconds", "SNIPS joint: training seconds (batch 16)", "report"),
    ("snips_full.json", "slot_f1", "SNIPS joint: slot F1, first recipe (batch 32)", "report"),
    (
        "restaurant8k_train0.json",
        "span_f1",
        "Restaurant-8k full: span F1 (Span-ConveRT ~96)",
        "report",
    ),
    (
        "restaurant8k_train8.json",
        "span_f1",
        "Restaurant-8k smallest fraction: span F1",
        "report",
    ),
    ("nlupp_banking_10fold.json", "slot_f1", "NLU++ banking: slot F1 (4 fold pairs)", "report"),
    ("nlupp_hotels_10fold.json", "slot_f1", "NLU++ hotels: slot F1 (4 fold pairs)", "report"),
    *[
        row
        for example in ("wallet_replies", "brand_voice", "code_migration")
        for row in (
            (f"generate_{example}.json", key, f"Generate {example}: {what}", target)
            for key, what, target in (
                ("contract_rate_before_retry", "contract compliance, fine-tuned", "report"),
                ("base_few_shot_contract_rate_before_retry", "same, prompted base", "baseline"),
                ("valid_or_flagged", "outputs valid or flagged", "1.0"),
                ("chrf", "chrF, fine-tuned", "report"),
                ("base_few_shot_chrf", "chrF, prompted base few-shot", "baseline"),
                ("train_seconds", "training seconds (1 core)", "report"),
                ("train_tokens_per_s", "training tokens/s (1 core)", "report"),
                ("generate_tokens_per_s", "generation tokens/s (1 core)", "report"),
            )
        )
    ],
    ("generate_code_migration.json", "checker_pass", "Code migration: node + v5 pass", "report"),
    (
        "generate_code_migration.json",
        "base_few_shot_checker_pass",
        "Code migration: same, prompted base 2-shot",
        "baseline",
    ),
    *[
        (name, key, f"{label}: {what}", target)
        for name, label, extras in LONG_RUNS
        for key, what, target in (
            *LONG_RUN_ROWS,
            *((key, EXTRA_LABELS[key], "report") for key in extras),
            *(
                (f"base_few_shot_{key}", "same, prompted base few-shot", "baseline")
                for key in extras
            ),
        )
    ],
    *[
        (f"generate_gguf_speed_{setting}.json", key, f"GGUF speed ({what}): {label}", target)
        for setting, what in (("base", "Gemma base"), ("code", "code-migration fine-tune"))
        for key, label, target in (
            ("llamacpp_tokens_per_s", "llama.cpp tokens/s (1 core)", "report"),
            ("transformers_tokens_per_s", "transformers tokens/s (1 core)", "baseline"),
            ("llamacpp_speedup", "llama.cpp / transformers", "report"),
            ("prompt_ids_identical", "prompts with identical token ids", "1.0"),
        )
    ],
    *[
        ("generate_constrained.json", key, f"JSON triage, prompted Gemma base: {label}", target)
        for key, label, target in (
            ("never_valid_after_retry", "schema-valid, check + 2 sampled retries", "baseline"),
            ("retry_valid_after_retry", "schema-valid, 1 grammar-constrained retry", "report"),
            ("always_valid_first_try", "schema-valid, always constrained", "report"),
            ("always_intent_accuracy", "intent accuracy, always constrained", "report"),
            ("logreg_intent_accuracy", "intent accuracy, frozen MiniLM + LR", "baseline"),
            ("never_seconds_per_ticket", "seconds per ticket, check + 2 sampled retries", "report"),
            ("always_seconds_per_ticket", "seconds per ticket, always constrained", "report"),
            ("grammar_ms_per_token", "grammar mask cost, ms per token (262k vocab)", "report"),
            (
                "llamacpp_constrained_speed_ratio",
                "llama.cpp decode tokens/s, constrained / free",
                "report",
            ),
        )
    ],
    *[
        (name, key, f"{label}: {what}", target)
        for name, label in (
            ("banking77_full_intervals.json", "BANKING77 full"),
            ("banking77_10shot_intervals.json", "BANKING77 10-shot (mean of draws)"),
        )
        for key, what, target in (
            ("margin_points", "margin over the best baseline (points)", "report"),
            ("margin_interval_low_points", "its 95% paired bootstrap interval, low", "report"),
            ("margin_interval_high_points", "its 95% paired bootstrap interval, high", "report"),
        )
    ],
    (
        "banking77_full_intervals.json",
        "mcnemar_p_exact",
        "BANKING77 full: McNemar exact p",
        "report",
    ),
    (
        "banking77_10shot_intervals.json",
        "mcnemar_p_exact_per_draw",
        "BANKING77 10-shot: McNemar exact p per draw",
        "report",
    ),
    *[
        ("demo_costs.json", key, f"Demo, cost per 1,000 tickets (USD): {label}", target)
        for key, label, target in (
            ("fine_tuned_per_1k_answer_all", "fine-tuned, answering all", "report"),
            ("fine_tuned_per_1k_at_target", "fine-tuned, target-precision threshold", "report"),
            ("fine_tuned_per_1k_at_cost_threshold", "fine-tuned, cost-optimal threshold", "report"),
            (
                "frozen_embeddings_logistic_regression_per_1k_at_cost_threshold",
                "frozen embeddings + LR, cost-optimal threshold",
                "baseline",
            ),
        )
    ],
    ("advise_banking77.json", "wall_seconds", "`advise` on BANKING77: wall seconds", "<= 300"),
    ("advise_banking77.json", "decision", "`advise` on BANKING77: decision", "report"),
    (
        "advise_scenarios.json",
        "agreement",
        "`advise` on the 12 validation scenarios: decisions agreeing with the expected one",
        ">= 11",
    ),
    (
        "advise_scenarios.json",
        "measurements_confirming_expected",
        "`advise` scenarios: measurements confirming the expected decision",
        "report",
    ),
    (
        "serve_load_before.json",
        "requests_per_s",
        "Serve before (2026-11-25: torch, no batching, httpx clients): requests/s",
        "report",
    ),
    ("serve_load_before.json", "p95_ms", "Serve before: p95 latency ms", "report"),
    ("serve_load.json", "errors", "Serve, 20k requests / 100 clients: errors", "0"),
    ("serve_load.json", "lost_rows", "Serve: acknowledged predictions missing from the store", "0"),
    ("serve_load.json", "requests_per_s", "Serve (onnx-int8, 1 worker): requests/s", ">= 1000"),
    (
        "serve_load.json",
        "in_process_batched_per_s",
        "Serve: the same model in process, texts/s (batches of 64)",
        "report",
    ),
    (
        "serve_load.json",
        "served_vs_batched_ratio",
        "Serve: served requests/s over in-process texts/s",
        ">= 0.5",
    ),
    (
        "serve_load.json",
        "p95_ms",
        "Serve: p95 latency ms (client side, queueing included)",
        "<= 250",
    ),
    ("serve_load.json", "p99_ms", "Serve: p99 latency ms", "<= 500"),
    (
        "serve_load.json",
        "restart_missing",
        "Serve, kill -9 mid-load: acknowledged but missing",
        "0",
    ),
    ("serve_load_2workers.json", "errors", "Serve, --workers 2: errors", "0"),
    ("serve_load_2workers.json", "lost_rows", "Serve, --workers 2: lost rows", "0"),
    ("serve_load_2workers.json", "requests_per_s", "Serve, --workers 2: requests/s", ">= 1000"),
    ("serve_load_2workers.json", "p95_ms", "Serve, --workers 2: p95 latency ms", "<= 250"),
    ("serve_load_2workers.json", "p99_ms", "Serve, --workers 2: p99 latency ms", "<= 500"),
    (
        "serve_hostile.json",
        "chunked_1gb_sent_mb_before_answer",
        "Serve: MB of a 1 GB chunked body without a key sent before the 401",
        "report",
    ),
    (
        "serve_hostile.json",
        "values_4mb_healthz_worst_ms",
        "Serve: slowest /healthz during a 4 MB body of tiny values, ms",
        "< 100",
    ),
    (
        "serve_hostile.json",
        "one_text_behind_largest_batch_seconds",
        "Serve: one text sent behind the largest legal batch, seconds",
        "report",
    ),
    *[
        ("moderation_sms.json", key, f"SMS Spam Collection (moderation): {label}", target)
        for key, label, target in (
            ("fine_tuned_spam_f1", "spam F1, fine-tuned", ">= 0.98"),
            ("logreg_spam_f1", "spam F1, frozen embeddings + LR", "baseline"),
            ("ham_blocked_rate", "ham blocked at the chosen threshold", "report"),
            ("spam_blocked_rate", "spam blocked at the chosen threshold", "report"),
            ("recall_drop_points_norm_on", "disguised: spam recall drop, normaliser on", "<= 2"),
            (
                "recall_drop_points_norm_off",
                "disguised: spam recall drop, normaliser off",
                "report",
            ),
        )
    ],
    *[
        ("moderation_example.json", key, f"Moderation example: {label}", target)
        for key, label, target in (
            ("fine_tuned_micro_f1", "micro-F1, fine-tuned", "report"),
            ("logreg_micro_f1", "micro-F1, frozen embeddings + LR", "baseline"),
            ("hard_benign_blocked_rate", "hard benign messages blocked", "report"),
            ("hard_benign_reviewed_rate", "hard benign messages sent to review", "report"),
            ("review_rate", "all messages sent to review", "report"),
            ("abuse_let_through_rate", "abusive messages allowed", "report"),
            ("disguised_norm_on_policy_f1", "disguised: policy F1, normaliser on", "report"),
            ("disguised_norm_off_policy_f1", "disguised: policy F1, normaliser off", "report"),
        )
    ],
    # Issue 14: drift monitoring and one retrain cycle (benchmarks/monitor_drift.py).
    *(
        (f"monitor_drift_{name}.json", key, f"Drift sim, {title}: {label}", target)
        for name, title in (
            ("wallet", "wallet-support, review queue only"),
            ("wallet_spot25", "wallet-support, + 25% spot checks"),
            ("banking77_spot50", "BANKING77, + 50% spot checks"),
        )
        for key, label, target in (
            ("false_alarm_rate", "false-alarm rate on no-drift days", "<= 0.05"),
            ("days_until_detection", "drift days until detection", "report"),
            ("new_traffic_accuracy_before", "accuracy on new traffic, before retrain", "report"),
            ("new_traffic_accuracy_after", "accuracy on new traffic, after retrain", "report"),
            ("retrain_promoted", "challenger promoted", "report"),
        )
    ),
]


def headline_table() -> str:
    lines = _table(("figure", "value", "target", "file"))
    for name, key, label, target in HEADLINES:
        path = RESULTS / name
        data = json.loads(path.read_text()) if path.exists() else {}
        value = _value(data[key]) if key in data else "not measured"
        lines.append(_row((label, value, target, f"`{name}`")))
    return "\n".join(lines) + "\n"


def scenarios_table() -> str:
    """One row per `advise` validation scenario (advise_scenarios.json), in its order."""
    path = RESULTS / "advise_scenarios.json"
    if not path.exists():
        return ""
    data = json.loads(path.read_text())
    lines = [
        "## `advise` validation scenarios",
        "",
        f"From `{path.name}` ({data['date']}). Expected: the scenario's decision "
        "(examples/advise_scenarios/make_scenarios.py); confirmed: whether the measurement "
        "behind it (examples/advise_scenarios/measure.py) holds on this run.",
        "",
        *_table(
            ("scenario", "expected", "advise decided", "agrees", "confirmed", "measurement"),
            (
                (
                    name,
                    data[name + "_expected"],
                    data[name + "_decision"],
                    "yes" if data[name + "_agrees"] else "no",
                    "yes" if data[name + "_confirmed"] else "no",
                    data[name + "_measurement"],
                )
                for name in data.get("order") or []
            ),
        ),
    ]
    return "\n".join(lines) + "\n\n"


def retrieval_tables() -> str:
    """Issue 18's retrieval figures: quality by mode (retrieval_wallet.json), build and query
    times at 10k / 100k chunks per store (retrieval_scale_*.json), and the store comparison
    (retrieval_stores.json)."""
    parts: list[str] = []
    path = RESULTS / "retrieval_wallet.json"
    if path.exists():
        data = json.loads(path.read_text())
        parts += [
            "## Retrieval: wallet-support knowledge base",
            "",
            f"From `{path.name}` ({data['date']}): {data['queries']} labeled queries over "
            f"{data['documents']} documents ({data['chunks']} chunks), k = {data['k']}.",
            "",
            *_table(
                (
                    "mode",
                    "recall@5",
                    "MRR",
                    "recall@5, query + intent",
                    "MRR, query + intent",
                    "query p50 ms",
                    "query p95 ms",
                ),
                (
                    (mode, *(_value(data[f"{mode}_{k}"]) for k in RETRIEVAL_KEYS))
                    for mode in ("vector", "bm25", "hybrid")
                ),
            ),
            "",
        ]
    scale = [RESULTS / f"retrieval_scale_{tag}.json" for tag in ("10k", "100k")]
    scale = [p for p in scale if p.exists()]
    if scale:
        parts += [
            "## Retrieval: build and query at scale",
            "",
            "Build seconds include embedding unless the embedding was reused (100k: the 10k "
            "set's vectors, perturbed; see benchmarks/retrieval_scale.py). Query times include "
            "embedding the query (vector, hybrid).",
            "",
            *_table(
                (
                    "file",
                    "store",
                    "chunks",
                    "embedding reused",
                    "build s",
                    "of which embedding s",
                    "vector p50 / p95 ms",
                    "bm25 p50 / p95 ms",
                    "hybrid p50 / p95 ms",
                )
            ),
        ]
        for path in scale:
            data = json.loads(path.read_text())
            for store in ("embedded", "pgvector"):
                if f"{store}_build_seconds" not in data:
                    continue
                cells = [
                    f"{_value(data[f'{store}_{mode}_query_p50_ms'])} / "
                    f"{_value(data[f'{store}_{mode}_query_p95_ms'])}"
                    for mode in ("vector", "bm25", "hybrid")
                ]
                parts.append(
                    _row(
                        (
                            f"`{path.name}`",
                            store,
                            data[f"{store}_chunks"],
                            _value(data["embedding_reused"]),
                            _value(data[f"{store}_build_seconds"]),
                            _value(data[f"{store}_embed_seconds"]),
                            *cells,
                        )
                    )
                )
        parts.append("")
    path = RESULTS / "retrieval_stores.json"
    if path.exists():
        data = json.loads(path.read_text())
        parts += [
            "## Retrieval: embedded vector stores compared",
            "",
            f"From `{path.name}` ({data['date']}): {data['vectors']}, {data['dim']} dimensions, "
            f"k = {data['k']}, one thread. sqlite-vec: {data['sqlite_vec_status']}.",
            "",
            *_table(
                (
                    "store",
                    "package MB",
                    "size",
                    "build s",
                    "query p50 / p95 ms",
                    "filtered p50 ms",
                    "delete 100 + add 100, s",
                    "recall@5 vs exact",
                )
            ),
        ]
        for store in ("faiss", "usearch", "lancedb"):
            for size in ("10k", "100k"):
                key = f"{store}_{size}"
                if f"{key}_build_s" not in data:
                    continue
                p50, p95 = data[key + "_query_p50_ms"], data[key + "_query_p95_ms"]
                parts.append(
                    _row(
                        (
                            store,
                            _value(data[store + "_package_mb"]),
                            size,
                            _value(data[key + "_build_s"]),
                            f"{_value(p50)} / {_value(p95)}",
                            _value(data[key + "_filtered_query_p50_ms"]),
                            _value(data[key + "_update_200_s"]),
                            _value(data[key + "_recall_at_5"]),
                        )
                    )
                )
        parts.append("")
    return "\n".join(parts) + ("\n" if parts else "")


RETRIEVAL_KEYS = (
    "recall_at_5",
    "mrr",
    "with_intent_recall_at_5",
    "with_intent_mrr",
    "query_p50_ms",
    "query_p95_ms",
)
TOOL_SYSTEMS = (
    ("", "fine-tuned"),
    ("base_zero_shot_", "base zero-shot"),
    ("base_few_shot_", "base few-shot"),
    ("encoder_route_", "encoder route"),
    ("llm_", "prompted LLM"),
)
BFCL_CATEGORIES = (
    ("simple_python", ">= 0.60 (stretch 0.70), >= base + 0.20"),
    ("multiple", ">= 0.70 (stretch 0.85), >= base + 0.20"),
    ("parallel", "report"),
    ("parallel_multiple", "report"),
    ("irrelevance", ">= 0.80 (stretch 0.85), >= base + 0.20"),
    ("live_simple", "report"),
    ("live_multiple", "report"),
    ("live_parallel", "report"),
    ("live_parallel_multiple", "report"),
    ("live_irrelevance", "report"),
)
OPS_ROWS = (
    ("action_accuracy", "action accuracy", ">= 0.95"),
    ("exact_arguments", "exact arguments (right action)", ">= 0.90"),
    ("irrelevance_accuracy", "no-call accuracy", ">= 0.95"),
    ("unconfirmed_executions", "unconfirmed executions of confirm-only tools", "0"),
    ("ast_accuracy", "AST accuracy (all items)", "report"),
    ("ast_accuracy_failed", "AST accuracy on failed trajectories' items", "report"),
    ("schema_valid", "schema-valid calls", "1.0"),
    ("escalated", "calls escalated (below threshold)", "report"),
    ("p50_ms", "p50 latency ms", "report"),
    ("p95_ms", "p95 latency ms", "report"),
    ("cost_per_1k_usd", "cost per 1,000 calls (USD)", "report"),
    ("train_seconds", "training seconds", "report"),
)


def _tool_table(data: dict, rows: tuple, key_of) -> list[str]:
    systems = [(p, n) for p, n in TOOL_SYSTEMS if p == "" or any(k.startswith(p) for k in data)]
    lines = _table(("figure", *(n for _, n in systems), "target"))
    for key, label, target in rows:
        values = [data.get(p + key_of(key)) for p, _ in systems]
        if all(v is None for v in values):
            continue
        shown = [_value(v) if v is not None else "–" for v in values]
        lines.append(_row((label, *shown, target)))
    return lines


def _cut_short(data: dict) -> str:
    """A sentence saying how far a LoRA run got when it stopped before its planned epochs (time
    budget or early stopping); '' when it ran them all or the file does not say."""
    planned = data.get("train_epochs_planned")
    if planned is None or data["train_epochs"] >= planned - 1e-3:
        return ""
    return (
        f" It stopped after {data['train_epochs']} of the {planned} planned epochs (time budget "
        "or early stopping on the validation loss)."
    )


def tool_call_tables() -> str:
    """The BFCL per-category table and the ops agent table, when their results exist."""
    parts: list[str] = []
    path = RESULTS / "tool_call_bfcl.json"
    if path.exists():
        data = json.loads(path.read_text())
        rows = [(c, c, t) for c, t in BFCL_CATEGORIES] + [
            ("ast_accuracy", "all test items", "report"),
            ("schema_valid", "schema-valid calls", "1.0"),
        ]
        parts += [
            "## `tool_call` on BFCL",
            "",
            f"From `{path.name}` ({data['date']}): AST accuracy per category on the seeded test "
            f"items (benchmarks/tool_call_bfcl_split.json), {data['test_items']} in all "
            f"({data['test_items'] // len(BFCL_CATEGORIES)} per category: one item moves a "
            "category's figure a lot); "
            f"{data['train_examples']} training items, {data['train_steps']} LoRA steps "
            f"({data['train_epochs']} epochs) in {data['train_seconds']} s (validation loss "
            f"{data['validation_loss_before']} -> {data['validation_loss_after']}; confidence "
            f"threshold {data['threshold']}, calls escalated: {data.get('escalated')}). Targets "
            f"from the issue; {data['base_model_note']}." + _cut_short(data),
            "",
            *_tool_table(
                data,
                tuple(rows),
                lambda k: k if k in ("ast_accuracy", "schema_valid") else f"ast_{k}",
            ),
            "",
        ]
    path = RESULTS / "tool_call_ops_agent.json"
    if path.exists():
        data = json.loads(path.read_text())
        parts += [
            "## `tool_call` on the ops agent",
            "",
            f"From `{path.name}` ({data['date']}): first actions of {data['test_items']} held-out "
            f"items (examples/ops_agent); {data['train_examples']} training trajectories, "
            f"{data['train_steps']} LoRA steps ({data['train_epochs']} epochs, "
            f"{data['train_tokens_per_s']} training tokens/s) in {data['train_seconds']} s of "
            "wall time (the `train.max_minutes` budget, plus the validation-loss passes and the "
            f"threshold choice; threshold {data['threshold']}); {data['base_model_note']}."
            + _cut_short(data),
            "",
            *_tool_table(data, OPS_ROWS, lambda k: k),
            "",
        ]
    return "\n".join(parts) + ("\n" if parts else "")


REVIEW_SYSTEMS = (
    ("reviewer", "fine-tuned reviewer (MiniLM line classifier)"),
    ("copilot", "copilot output (reviewer + the analyzer's critical/high/medium findings)"),
    ("analyzer_raw", "analyzer's raw messages (every Slither finding as a comment)"),
    ("prompted_base", "prompted base (Gemma 3 270M, pretrained, one example)"),
)


def contract_review_table() -> str:
    """The contract-review copilot: comments per system, routing, time per contract."""
    path = RESULTS / "contract_review.json"
    if not path.exists():
        return ""
    data = json.loads(path.read_text())
    lines = [
        "## Contract review",
        "",
        f"From `{path.name}` ({data['date']}): {data['contracts']} held-out test contracts "
        f"({data['clean_contracts']} clean) with {data['planted_issues']} planted issues "
        f"({data['planted_held_out']} from templates kept out of training); the reviewer was "
        f"trained on {data['training_comments']} comments. A comment is right when it names the "
        "planted pattern on the planted line.",
        "",
        "| system | comments | right (share of comments) | planted issues found | "
        "comments on clean contracts |",
        "|---|---|---|---|---|",
    ]
    for key, name in REVIEW_SYSTEMS:
        if f"{key}_comments" in data:
            lines.append(
                f"| {name} | {data[f'{key}_comments']} | {_value(data[f'{key}_right_share'])} | "
                f"{_value(data[f'{key}_recall'])} | "
                f"{data[f'{key}_comments_on_clean_contracts']} |"
            )
    lines += [
        "",
        "| routing and time | value |",
        "|---|---|",
        f"| contracts with a security-critical planted issue sent to a human | "
        f"{_value(data['critical_routed_to_human'])} (share of {data['critical_contracts']}) |",
        f"| bad inputs sent to a human | {data['bad_inputs_routed_to_human']} |",
        f"| other contracts sent to a human | {_value(data['other_contracts_escalated'])} |",
        f"| `pipeline test` pass rate | {_value(data['pipeline_pass_rate'])} |",
        f"| analyzer recall, same pattern and line / same function | "
        f"{_value(data['analyzer_recall_same_line'])} / "
        f"{_value(data['analyzer_recall_same_function'])} |",
        f"| reviewer recall on held-out / seen templates | "
        f"{_value(data['reviewer_recall_held_out'])} / {_value(data['reviewer_recall_seen'])} |",
        f"| seconds per contract end to end, p50 / p95 | "
        f"{_value(data['seconds_per_contract_p50'])} / "
        f"{_value(data['seconds_per_contract_p95'])} |",
        "",
    ]
    return "\n".join(lines)


def generated() -> str:
    files = sorted(RESULTS.glob("*.json"))
    parts = [
        "## Headline figures",
        "",
        headline_table(),
        scenarios_table() + tool_call_tables(),
        retrieval_tables(),
        contract_review_table(),
        "## Every results file",
        "",
    ]
    return "\n".join(parts) + "\n".join(render_file(p) for p in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        sys.exit(f"{DOC} lacks the GENERATED markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n\n{generated()}\n{END}{tail}"
    if args.check:
        if new != text:
            sys.exit("BENCHMARKS.md is out of date: run python benchmarks/render.py")
        print("BENCHMARKS.md matches benchmarks/results/")
        return
    DOC.write_text(new)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
