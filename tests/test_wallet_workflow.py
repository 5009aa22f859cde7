"""The wallet-support workflow end to end with real (small) models: a classifier trained for a
moment on the demo tickets, a tiny causal LM drafter built from a config and trained a few
steps, and the example's knowledge base indexed for real.

The tiny drafter writes nothing useful, so its replies fail the approved format and are
escalated; what these tests check is the workflow around it: the facts come from the index at
the time of the ticket (edit a policy, update the index, and the same ticket's reply changes, no
retraining), and the cases a person must handle never get a drafted reply.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_generate_tiny import build_tiny_lm

from narrowtune import api
from narrowtune.pipeline import load_pipeline, run_case
from narrowtune.retrieval import build_index, update_index
from narrowtune.task import load_task

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "wallet_support"
TICKETS = Path(__file__).resolve().parents[1] / "narrowtune" / "demo" / "tickets.csv"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wallet")
    shutil.copytree(EXAMPLE / "docs", folder / "docs")
    shutil.copy(EXAMPLE / "steps.py", folder / "steps.py")

    intents = yaml.safe_load((EXAMPLE / "task.yaml").read_text())
    intents["data"]["train"] = str(TICKETS)
    intents["train"] = {"mode": "full", "epochs": 1, "batch_size": 32}
    (folder / "intents").mkdir()
    (folder / "intents" / "task.yaml").write_text(yaml.safe_dump(intents))
    intent_run = api.train(load_task(folder / "intents" / "task.yaml"), force=True)

    pairs = [json.loads(line) for line in (EXAMPLE / "replies" / "pairs.jsonl").open()][:40]
    (folder / "replies").mkdir()
    (folder / "replies" / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    build_tiny_lm(folder / "replies" / "lm", [p["prompt"] + "\n" + p["completion"] for p in pairs])
    drafter = {
        "name": "tiny-drafter",
        "kind": "generate",
        "data": {"train": "pairs.jsonl", "text_column": "prompt", "target_column": "completion"},
        "model": {"base": "lm"},
        "split": {"validation": 0.1, "test": 0.1},
        "generate": {
            "max_new_tokens": 24,
            "max_length": 128,
            "overlong": "truncate",
            "epochs": 1,
            "batch_size": 8,
        },
        "seed": 3,
    }
    (folder / "replies" / "task.yaml").write_text(yaml.safe_dump(drafter))
    draft_run = api.train(
        load_task(folder / "replies" / "task.yaml"), force=True, evaluate_after=False
    )

    spec = yaml.safe_load((EXAMPLE / "pipeline.yaml").read_text())
    for step in spec["steps"]:
        if step["id"] == "intent":
            step.pop("task"), step.update(run=str(intent_run))
        elif step["id"] == "draft":
            step.pop("task"), step.update(run=str(draft_run))
        elif step["id"] == "contract":  # the example's own approved format
            step["contract"] = str(EXAMPLE / "replies" / "task.yaml")
    (folder / "pipeline.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    build_index(folder / "docs", folder / "runs" / "index")
    return folder


def _without(folder: Path, step_id: str) -> Path:
    """The workflow without one escalation rule (the classifier trained for a moment is unsure
    of most tickets; the real one, trained through the README, is not)."""
    spec = yaml.safe_load((folder / "pipeline.yaml").read_text())
    spec["steps"] = [s for s in spec["steps"] if s["id"] != step_id]
    path = folder / f"pipeline-without-{step_id}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _reply(result: Any) -> str:
    return str(result.outputs.get("reply") or "")


def test_a_policy_edit_changes_the_next_reply_without_retraining(workflow: Path) -> None:
    pipeline = load_pipeline(_without(workflow, "unsure"))
    ticket = "My deposit from Ethereum to Arbitrum still has not arrived after 30 minutes."
    before = run_case(pipeline, {"ticket": ticket})
    facts = before.step("facts")
    assert facts is not None and facts.status == "ok"
    trace = [(s.step, s.status, s.error) for s in before.steps]
    assert facts.output["top"]["doc_id"] == "status-arbitrum", trace
    assert before.outputs["source"] == "status-arbitrum", trace
    assert "40 minutes" in _reply(before)

    doc = workflow / "docs" / "chains" / "arbitrum.md"
    doc.write_text(
        doc.read_text()
        .replace("delayed up to 40 minutes", "delayed up to 3 hours")
        .replace("updated_at: 2026-12-04T07:15:00Z", "updated_at: 2026-12-04T12:00:00Z")
    )
    summary = update_index(workflow / "runs" / "index")
    assert summary.updated == 1 and summary.added == 0

    after = run_case(load_pipeline(_without(workflow, "unsure")), {"ticket": ticket})
    assert "3 hours" in _reply(after) and "40 minutes" not in _reply(after)
    assert "updated 2026-12-04" in _reply(after)
    # the drafter is the same run: only the retrieved fact changed
    assert before.step("draft").output["run"] == after.step("draft").output["run"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "ticket",
    [
        "Someone on Telegram asked for my seed phrase to fix my wallet, should I send it?",
        "I lost my 12 words and I am locked out, please help",
        "can you recover my private key? I only have my email",
    ],
)
def test_secrets_reach_a_person_before_any_drafting(workflow: Path, ticket: str) -> None:
    result = run_case(load_pipeline(workflow / "pipeline.yaml"), {"ticket": ticket})
    assert result.escalated and result.route == "human"
    ran = [s.step for s in result.steps if s.status == "ok"]
    assert "draft" not in ran and "facts" not in ran


def test_a_broken_reply_is_escalated_with_its_problems(workflow: Path) -> None:
    pipeline = load_pipeline(_without(workflow, "unsure"))
    result = run_case(pipeline, {"ticket": "My NFT from the mint does not show in the gallery."})
    assert result.escalated
    contract = result.step("contract")
    assert contract is not None and contract.output["valid"] is False
    assert "approved format" in result.reason
