"""The prompted-LLM baseline's parsing and configuration (the live endpoint test is in
test_llm_live.py, against narrowtune's own server)."""

from __future__ import annotations

import pytest

from narrowtune.evaluate.llm import Endpoint, classify_prompt, parse_labels

LABELS = ["refund_request", "stuck_transaction", "phishing_report"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("refund_request", ["refund_request"]),
        (" Refund Request.\nBecause the user wants money", ["refund_request"]),
        ("stuck_transacton", ["stuck_transaction"]),  # a near spelling still counts
        ("I cannot tell", []),  # no guess: counted wrong
        ("", []),
    ],
)
def test_single_label_answers(answer: str, expected: list[str]) -> None:
    assert parse_labels(answer, LABELS, multi_label=False) == expected


def test_multi_label_answers() -> None:
    got = parse_labels("phishing_report, refund_request, phishing_report", LABELS, True)
    assert got == ["phishing_report", "refund_request"]


def test_prompt_lists_every_label_with_its_description() -> None:
    (message,) = classify_prompt("my tx is pending", {"a": "first", "b": ""}, False)
    assert "- a: first\n- b\n" in message["content"]
    assert message["content"].endswith("Text: my tx is pending\nLabel:")


def test_endpoint_only_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NARROWTUNE_LLM_BASE_URL", raising=False)
    assert Endpoint.from_env() is None
    monkeypatch.setenv("NARROWTUNE_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("NARROWTUNE_LLM_MODEL", "m")
    assert Endpoint.from_env() == Endpoint("http://127.0.0.1:9/v1", "none", "m")
