"""Pipelines: loading checks (file:line), running cases with traces, failures that escalate,
the store's traces and review items, and `pipeline test`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from typer.testing import CliRunner

from narrowtune.cli import app
from narrowtune.pipeline import PipelineError, load_pipeline, read_cases, run_case, run_cases
from narrowtune.store import Store

STEPS_PY = """
import time

def shout(text, times=1):
    return {"text": (text.upper() + "!") * times, "confidence": 0.9}

def slow(seconds):
    time.sleep(seconds)
    return {"done": True}

def broken(text):
    raise ValueError("the service said no")

def not_a_dict(text):
    return ["a", "list"]

def nan(text):
    return {"confidence": float("nan")}
"""


def write(folder: Path, spec: dict[str, Any], name: str = "pipeline.yaml") -> Path:
    (folder / "steps.py").write_text(STEPS_PY)
    path = folder / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def base_spec(run: Path | None = None) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    if run is not None:
        steps.append({"id": "intent", "type": "model", "run": str(run), "text": "{ticket}"})
    steps += [
        {
            "id": "loud",
            "type": "python",
            "function": "steps.py:shout",
            "with": {"text": "{ticket}"},
        },
        {
            "id": "check",
            "type": "validate",
            "value": "{loud.text}",
            "regex": "[A-Z0-9 !]+",
            "forbidden": ["PASSWORD"],
        },
        {
            "id": "human",
            "type": "escalate",
            "when": {"check.valid": False},
            "reason": "the answer broke its contract: {check.problems}",
        },
        {
            "id": "route",
            "type": "route",
            "rules": [
                {"when": {"ticket": {"matches": "(?i)refund"}}, "route": "billing"},
                {"route": "support", "reason": "everything else"},
            ],
        },
    ]
    return {
        "name": "demo-flow",
        "inputs": {"ticket": "string"},
        "steps": steps,
        "outputs": {"answer": "{loud.text}", "ok": "{check.valid}"},
    }


# -- loading ----------------------------------------------------------------------------------


def test_loads_and_orders_steps(tmp_path: Path) -> None:
    spec = base_spec()
    # the route step written first still runs after the steps it reads
    spec["steps"] = [spec["steps"][-1], *spec["steps"][:-1]]
    spec["steps"][0]["rules"][0]["when"] = {"check.valid": True, "ticket": {"matches": "refund"}}
    pipeline = load_pipeline(write(tmp_path, spec))
    assert [s.id for s in pipeline.steps] == ["loud", "check", "route", "human"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s["steps"][0].update(type="magic"),
            r"pipeline.yaml:\d+: unknown step type 'magic'",
        ),
        (
            lambda s: s["steps"][0].update(colour="red"),
            r"pipeline.yaml:\d+: unknown key 'steps.0.colour'",
        ),
        (
            lambda s: s["steps"][1].update(value="{nowhere.text}"),
            r"reads 'nowhere.text', but no input",
        ),
        (
            lambda s: s["steps"][2].update(when={"check.problems": {"lt": 3}}),
            r"compares 'check.problems' \(array\) with 'lt'",
        ),
        (
            lambda s: s["steps"][2].update(when={"check.valid": {"near": 3}}),
            r"unknown comparison 'near'",
        ),
        (lambda s: s["steps"][1].update(id="loud"), r"two steps are named 'loud'"),
        (lambda s: s["steps"][1].update(value="{check.valid}"), r"reads its own output"),
        (lambda s: s["steps"][3]["rules"].reverse(), r"must be the last rule"),
        (lambda s: s["steps"][1].update(value="{loud.text}", regex="(unclosed"), r"pattern"),
        (lambda s: s.update(inputs={}), r"'inputs'"),
    ],
)
def test_bad_pipelines_name_their_place(tmp_path: Path, change: Any, message: str) -> None:
    spec = base_spec()
    change(spec)
    with pytest.raises(PipelineError, match=message):
        load_pipeline(write(tmp_path, spec))


def test_type_mismatch_between_steps(tmp_path: Path) -> None:
    spec = base_spec()
    spec["steps"].insert(
        2, {"id": "fields", "type": "validate", "value": "{check.problems}", "required": ["a"]}
    )
    with pytest.raises(
        PipelineError, match=r"step 'fields' value needs object, but 'check.problems' is array"
    ):
        load_pipeline(write(tmp_path, spec))


def test_a_cycle_is_named(tmp_path: Path) -> None:
    spec = base_spec()
    spec["steps"][0]["with"] = {"text": "{check.problems}"}  # loud reads check, check reads loud
    with pytest.raises(PipelineError, match=r"cycle: .*loud.*check|cycle: .*check.*loud"):
        load_pipeline(write(tmp_path, spec))


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("name: x\nsteps: [\n")
    with pytest.raises(PipelineError, match=r"p.yaml:\d+:\d+: not valid YAML"):
        load_pipeline(tmp_path / "p.yaml")
    with pytest.raises(PipelineError, match="not found"):
        load_pipeline(tmp_path / "nope.yaml")


# -- running ----------------------------------------------------------------------------------


def test_runs_a_case_with_a_real_model(tmp_path: Path, tiny_run: Path) -> None:
    spec = base_spec(tiny_run)
    spec["steps"][-1]["rules"].insert(
        0, {"when": {"intent.confidence": {"lt": 0.0}}, "route": "never"}
    )
    pipeline = load_pipeline(write(tmp_path, spec))
    result = run_case(pipeline, {"ticket": "please refund the payment 123"})
    assert not result.escalated
    assert result.route == "billing"
    assert result.outputs == {"answer": "PLEASE REFUND THE PAYMENT 123!", "ok": True}
    intent = result.step("intent")
    assert intent is not None and intent.status == "ok"
    assert intent.output["label"] in ("refund", "shipping", "login")
    assert intent.confidence == intent.output["confidence"]
    assert [s.step for s in result.steps] == ["intent", "loud", "check", "human", "route"]
    assert result.step("human").status == "skipped"  # type: ignore[union-attr]

    failing = run_case(pipeline, {"ticket": "my password is hunter2"})
    assert failing.escalated and failing.route == "human"
    assert "PASSWORD" in failing.reason and failing.step("route") is None


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            {"function": "steps.py:broken", "with": {"text": "{ticket}"}},
            "ValueError: the service said no",
        ),
        ({"function": "steps.py:not_a_dict", "with": {"text": "{ticket}"}}, "not a dict"),
        ({"function": "steps.py:nan", "with": {"text": "{ticket}"}}, "not plain JSON"),
        (
            {"function": "steps.py:slow", "with": {"seconds": 2}, "timeout": 0.2},
            "longer than 0.2 s",
        ),
    ],
)
def test_failing_steps_escalate_with_the_reason(tmp_path: Path, step: dict, expected: str) -> None:
    spec = base_spec()
    spec["steps"][0].update(step)
    if "seconds" in step["with"]:
        spec["steps"][0]["with"] = step["with"]
    pipeline = load_pipeline(write(tmp_path, spec))
    result = run_case(pipeline, {"ticket": "hello"})
    assert result.escalated and result.route == "human"
    assert expected in result.reason
    trace = result.step("loud")
    assert trace is not None and trace.status in ("failed", "timeout") and expected in trace.error
    assert result.step("route") is None  # nothing after the failure answered the case


def test_on_error_continue_records_and_goes_on(tmp_path: Path) -> None:
    spec = base_spec()
    spec["steps"][0].update(function="steps.py:broken", on_error="continue")
    result = run_case(load_pipeline(write(tmp_path, spec)), {"ticket": "hello"})
    assert result.step("loud").status == "failed"  # type: ignore[union-attr]
    # the validate step then has nothing to check, so the case is escalated by the rule
    assert result.escalated and "nothing to check" in result.reason


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({}, "missing input 'ticket'"),
        ({"ticket": 3}, "input 'ticket' should be a string, got number"),
        ({"ticket": "x", "extra": 1}, "unknown input 'extra'"),
        (["not", "an", "object"], "inputs are an object"),
    ],
)
def test_bad_inputs_escalate(tmp_path: Path, inputs: Any, expected: str) -> None:
    pipeline = load_pipeline(write(tmp_path, base_spec()))
    result = run_case(pipeline, inputs)
    assert result.escalated and expected in result.reason
    assert result.steps[0].step == "inputs" and result.steps[0].status == "failed"


class _Service(BaseHTTPRequestHandler):
    calls: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Service.calls.append(self.path)
        if self.path == "/flaky" and len(_Service.calls) % 2 == 1:
            self.send_response(503)
            self.end_headers()
            return
        if self.path == "/down":
            self.send_response(500)
            self.end_headers()
            return
        payload = json.dumps({"status": "delayed", "chain": body["chain"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Service.calls = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _http_spec(url: str) -> dict[str, Any]:
    return {
        "name": "status",
        "inputs": {"chain": "string"},
        "steps": [
            {
                "id": "status",
                "type": "http",
                "method": "POST",
                "url": url,
                "json": {"chain": "{chain}"},
                "timeout": 2,
                "retries": 2,
                "backoff": 0,
            }
        ],
        "outputs": {"status": "{status.json.status}"},
    }


def test_http_step_retries_then_answers(tmp_path: Path, service: str) -> None:
    pipeline = load_pipeline(write(tmp_path, _http_spec(service + "/flaky")))
    result = run_case(pipeline, {"chain": "Base"})
    assert not result.escalated
    assert result.outputs == {"status": "delayed"}
    assert result.step("status").output["attempts"] == 2  # type: ignore[union-attr]


def test_http_step_that_fails_escalates(tmp_path: Path, service: str) -> None:
    pipeline = load_pipeline(write(tmp_path, _http_spec(service + "/down")))
    result = run_case(pipeline, {"chain": "Base"})
    assert result.escalated and "failed after 3 attempts" in result.reason
    assert len(_Service.calls) == 3
    # a port nobody listens on: a connection error, retried, then escalated
    closed = load_pipeline(write(tmp_path, _http_spec("http://127.0.0.1:9/x"), "closed.yaml"))
    assert run_case(closed, {"chain": "Base"}).escalated


# -- the store and the review queue -----------------------------------------------------------


def test_traces_and_escalations_land_in_the_store(tmp_path: Path) -> None:
    pipeline = load_pipeline(write(tmp_path, base_spec()))
    store = Store(tmp_path / "db.sqlite")
    answered = run_case(pipeline, {"ticket": "refund please"})
    escalated = run_case(pipeline, {"ticket": "reset my password"})
    first = store.record_trace(answered.to_dict(), review_text=answered.review_text)
    second = store.record_trace(escalated.to_dict(), review_text=escalated.review_text)
    assert first["review_item_id"] is None
    assert second["review_item_id"] is not None
    queue = store.open_reviews()
    assert [item["text"] for item in queue] == ["reset my password"]
    assert queue[0]["kind"] == "pipeline" and "PASSWORD" in queue[0]["problems"][0]
    store.decide(second["review_item_id"], "ana", "correct", label="support")
    trace = store.trace(escalated.trace_id)
    assert trace is not None and trace["status"] == "escalated"
    assert [s["step"] for s in trace["steps"]] == ["loud", "check", "human"]
    assert trace["review"]["status"] == "corrected"
    assert trace["review"]["decisions"][0]["label"] == "support"
    assert store.trace(answered.trace_id)["review"] is None  # type: ignore[index]
    assert {t["trace_id"] for t in store.traces("demo-flow")} == {
        answered.trace_id,
        escalated.trace_id,
    }
    store.close()


# -- pipeline test ----------------------------------------------------------------------------


def _cases(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_cases_are_scored_per_step_and_end_to_end(tmp_path: Path) -> None:
    pipeline = load_pipeline(write(tmp_path, base_spec()))
    cases = read_cases(
        _cases(
            tmp_path / "cases.jsonl",
            [
                {
                    "id": "a",
                    "inputs": {"ticket": "refund"},
                    "expect": {"route": "billing", "check.valid": True},
                },
                {
                    "id": "b",
                    "inputs": {"ticket": "hi"},
                    "expect": {"route": "support", "output.answer": "HI!"},
                },
                {"id": "c", "inputs": {"ticket": "password"}, "expect": {"escalated": True}},
                {"id": "d", "inputs": {"ticket": "hello"}, "expect": {"route": "billing"}},
            ],
        ),
        pipeline,
    )
    summary = run_cases(pipeline, cases).summary()
    assert summary["cases"] == 4 and summary["passed"] == 3
    assert summary["escalation_recall"] == 1.0 and summary["escalation_precision"] == 1.0
    assert summary["route_accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["steps"] == {
        "check": {"checked": 1, "passed": 1, "rate": 1.0},
        "output": {"checked": 1, "passed": 1, "rate": 1.0},
    }


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"cases.jsonl:2: not valid JSON"),
        ('{"inputs": {"ticket": "x"}}', r"cases.jsonl:2: `expect` is a non-empty object"),
        ('{"inputs": {"ticket": "x"}, "expect": {"ghost.label": 1}}', r"names no step"),
        (
            '{"id": "a", "inputs": {"ticket": "x"}, "expect": {"route": "x"}}',
            r"two cases have the id",
        ),
    ],
)
def test_malformed_cases_name_their_line(tmp_path: Path, line: str, message: str) -> None:
    pipeline = load_pipeline(write(tmp_path, base_spec()))
    path = tmp_path / "cases.jsonl"
    path.write_text(
        '{"id": "a", "inputs": {"ticket": "x"}, "expect": {"route": "x"}}\n' + line + "\n"
    )
    with pytest.raises(PipelineError, match=message):
        read_cases(path, pipeline)


def test_cli_run_test_and_trace(tmp_path: Path) -> None:
    file = write(tmp_path, base_spec())
    runner = CliRunner()
    db = str(tmp_path / "cli.db")
    ran = runner.invoke(app, ["pipeline", "run", str(file), "my password", "--db", db, "--json"])
    assert ran.exit_code == 0, ran.output
    trace_id = json.loads(ran.stdout)["trace_id"]
    shown = runner.invoke(app, ["pipeline", "trace", trace_id, "--db", db])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["status"] == "escalated"
    cases = _cases(
        tmp_path / "cases.jsonl",
        [
            {"id": "a", "inputs": {"ticket": "refund"}, "expect": {"route": "billing"}},
            {"id": "b", "inputs": {"ticket": "hi"}, "expect": {"route": "billing"}},
        ],
    )
    out = tmp_path / "summary.json"
    tested = runner.invoke(app, ["pipeline", "test", str(file), str(cases), "-o", str(out)])
    assert tested.exit_code == 1 and "FAIL b" in tested.stdout
    assert json.loads(out.read_text())["passed"] == 1
    lenient = runner.invoke(
        app, ["pipeline", "test", str(file), str(cases), "--min-pass-rate", "0.5"]
    )
    assert lenient.exit_code == 0, lenient.output
    bad = runner.invoke(app, ["pipeline", "run", str(file), "{oops"])
    assert bad.exit_code == 2 and "not a valid JSON object" in bad.output


def test_python_step_timeout_does_not_block_the_case(tmp_path: Path) -> None:
    spec = base_spec()
    spec["steps"][0].update(function="steps.py:slow", timeout=0.3)
    spec["steps"][0]["with"] = {"seconds": 5}
    pipeline = load_pipeline(write(tmp_path, spec))
    began = time.perf_counter()
    result = run_case(pipeline, {"ticket": "x"})
    assert time.perf_counter() - began < 2
    assert result.escalated and result.step("loud").status == "timeout"  # type: ignore[union-attr]


# -- retrieval --------------------------------------------------------------------------------


def _retrieve_spec(index: str) -> dict[str, Any]:
    return {
        "name": "facts",
        "inputs": {"question": "string"},
        "steps": [{"id": "facts", "type": "retrieve", "index": index, "query": "{question}"}],
        "outputs": {"context": "{facts.context}", "source": "{facts.top.doc_id}"},
    }


def test_retrieve_step_reads_the_index_and_escalates_when_it_cannot(tmp_path: Path) -> None:
    from narrowtune.retrieval import build_index, delete_documents

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "fees.md").write_text(
        "---\nid: fees\nupdated_at: 2026-12-01T00:00:00Z\n---\n# Fees\n\n"
        "Sending on Base costs about 0.01 USD in network fees today.\n"
    )
    build_index(docs, tmp_path / "index")
    pipeline = load_pipeline(write(tmp_path, _retrieve_spec("index")))
    answered = run_case(pipeline, {"question": "how much are fees on Base?"})
    assert not answered.escalated
    assert answered.outputs["source"] == "fees" and "0.01 USD" in answered.outputs["context"]

    # an index that was never built: the case is escalated, the trace says why
    missing = load_pipeline(write(tmp_path, _retrieve_spec("nowhere"), "missing.yaml"))
    result = run_case(missing, {"question": "fees?"})
    assert result.escalated and result.step("facts").status == "failed"  # type: ignore[union-attr]
    assert "nowhere" in result.reason

    # an index whose last document was deleted: empty, so escalated too
    delete_documents(tmp_path / "index", ["fees"])
    emptied = load_pipeline(write(tmp_path, _retrieve_spec("index"), "emptied.yaml"))
    result = run_case(emptied, {"question": "fees?"})
    assert result.escalated and "facts" in result.reason


def test_python_step_file_may_define_dataclasses(tmp_path: Path) -> None:
    """A step file is registered as a module before it runs, as `import` would: a dataclass in
    it (dataclasses look their module up by name) must not break the import."""
    spec = base_spec()
    pipeline_file = write(tmp_path, spec)
    (tmp_path / "steps.py").write_text(
        STEPS_PY + "\nfrom dataclasses import dataclass\n\n@dataclass\nclass Box:\n    text: str\n"
    )
    result = run_case(load_pipeline(pipeline_file), {"ticket": "hi"})
    assert not result.escalated, result.reason
