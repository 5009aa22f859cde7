"""Kind tool_call: tools and policy, rows checked row by row, the AST match, and a tiny Llama
(built from a config) trained, decoding only declared tools with valid arguments, holding
confirm-only and low-confidence calls, served through OpenAI's `tools` with the `openai` client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from live_server import live_server
from tool_call_tiny import TOOLS, write_tool_task

from narrowtune.data import DataError, load_splits
from narrowtune.kinds import get_kind
from narrowtune.kinds.lm.grammar import compile_grammar
from narrowtune.kinds.tool_call.metrics import ast_match
from narrowtune.kinds.tool_call.model import ToolCallModel, conversation_of
from narrowtune.kinds.tool_call.tools import Toolset, read_tools
from narrowtune.serve import create_app
from narrowtune.store import Store
from narrowtune.task import TaskError, load_task

# ----------------------------------------------------------------------------- no model


def _task_with(folder: Path, rows: list[dict[str, Any]], **section: Any) -> Path:
    path = write_tool_task(folder, build_lm=False, **section)
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_tool_schema_that_is_not_json_schema_is_refused_by_name(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(TOOLS))
    bad[1]["function"]["parameters"]["properties"]["chain"]["type"] = "strnig"
    with pytest.raises(TaskError, match=r"tool_call.tools\[1\] \(get_gas_price\).parameters"):
        load_task(_task_with(tmp_path, [], tools=bad))
    with pytest.raises(TaskError, match=r"policy\.confirm: send_funds not among"):
        load_task(_task_with(tmp_path, [], policy={"confirm": ["send_funds"]}))


def test_bad_rows_are_reported_by_row_and_field_and_nothing_is_read(tmp_path: Path) -> None:
    good = {
        "request": "gas on eth",
        "calls": [{"name": "get_gas_price", "arguments": {"chain": "eth"}}],
    }
    rows = [
        good,
        {  # a trajectory calling an unknown tool
            "messages": [
                {"role": "user", "content": "send 5 eth"},
                {"role": "assistant", "tool_calls": [{"name": "send_funds", "arguments": {}}]},
            ]
        },
        {
            "request": "gas on btc",
            "calls": [{"name": "get_gas_price", "arguments": {"chain": "btc"}}],
        },
        {  # a tool result that is not JSON
            "messages": [
                {"role": "user", "content": "gas on sol"},
                {
                    "role": "assistant",
                    "tool_calls": [{"name": "get_gas_price", "arguments": {"chain": "sol"}}],
                },
                {"role": "tool", "name": "get_gas_price", "content": "twelve gwei"},
                {"role": "assistant", "content": "12"},
            ]
        },
        {  # the row names a tool the task does not declare
            "request": "x",
            "calls": [],
            "tools": [
                {"type": "function", "function": {"name": "mint", "parameters": {"type": "object"}}}
            ],
        },
    ]
    task = load_task(_task_with(tmp_path, rows))
    with pytest.raises(DataError) as raised:
        get_kind("tool_call").read_examples(task, tmp_path / "rows.jsonl")
    message = str(raised.value)
    assert "4 of 5 row(s)" in message and "nothing was read" in message
    assert "rows.jsonl:2: messages[1].tool_calls[0].name: unknown tool 'send_funds'" in message
    assert "rows.jsonl:3: calls[0].arguments fail the schema of get_gas_price" in message
    assert "rows.jsonl:4: messages[2].content: the tool result is not JSON" in message
    assert "rows.jsonl:5: tools[0] (mint): not a tool the task declares" in message


def test_rows_and_trajectories_are_read_with_their_first_action(tmp_path: Path) -> None:
    task = load_task(write_tool_task(tmp_path, build_lm=False))
    examples = get_kind("tool_call").read_examples(task, tmp_path / "rows.jsonl")
    assert len(examples) == 48
    failed = [ex for ex in examples if not ex.target["success"]]
    assert failed and all(ex.target["category"] == "single" for ex in failed)
    no_call = [ex for ex in examples if ex.target["category"] == "no_call"]
    assert no_call and all(ex.target["expected"] == [] for ex in no_call)
    trajectory = next(ex for ex in examples if len(ex.target["messages"]) == 4)
    assert [m["role"] for m in trajectory.target["messages"]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
    ]


def test_ast_match_is_bfcl_style() -> None:
    expected = [
        {"spotify.play": {"artist": ["Taylor Swift"], "duration": [20]}},
        {"spotify.play": {"artist": ["Maroon 5"], "duration": [15, ""]}},
    ]
    calls = [
        ("spotify.play", {"artist": "maroon 5"}),
        ("spotify.play", {"artist": "Taylor Swift", "duration": 20.0}),
    ]
    assert ast_match(calls, expected)  # any order, optional argument, case, 20 == 20.0
    assert not ast_match(calls[:1], expected)  # a call missing
    assert not ast_match([("spotify.play", {"artist": "Taylor Swift"}), calls[0]], expected)
    assert not ast_match(
        [("spotify.play", {"artist": "Maroon 5", "volume": 3}), calls[1]], expected
    )
    assert not ast_match(
        [("spotify.play", {"artist": "Taylor Swift", "duration": True}), calls[0]], expected
    )
    assert ast_match([], []) and not ast_match(calls, [])


def test_the_action_grammar_compiles_for_declared_tools_and_bfcl_types() -> None:
    tools = Toolset(read_tools(TOOLS, "tools"))
    assert compile_grammar(tools.action_schema(), None)[0] is not None
    bfcl = read_tools(
        [
            {
                "name": "calc.area",
                "parameters": {
                    "type": "dict",
                    "properties": {"r": {"type": "float"}, "xs": {"type": "tuple"}},
                },
            }
        ],
        "function",
    )
    assert bfcl[0].parameters["type"] == "object"
    assert bfcl[0].parameters["properties"]["r"]["type"] == "number"
    assert compile_grammar(
        Toolset(bfcl).action_schema(names=["calc.area"], allow_answer=False), None
    )[0]


def test_training_targets_write_arguments_in_the_order_the_grammar_holds_decoding_to(
    tmp_path: Path,
) -> None:
    """Arguments given in any order are trained in the schema's property order, and the action
    text trained on is one the decoding grammar accepts (a mismatch taught the model an order
    it was then never allowed to write)."""
    from transformers import AutoTokenizer

    from narrowtune.kinds.lm.grammar import COMPACT_JSON_OPTIONS, GrammarMatcher, hf_tokenizer

    rows = [
        {
            "request": "balance of 0xab12 on eth",
            "calls": [{"name": "get_balance", "arguments": {"address": "0xab12", "chain": "eth"}}],
        },
        {
            "messages": [
                {"role": "user", "content": "balance of 0xcd34 on sol"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"name": "get_balance", "arguments": {"address": "0xcd34", "chain": "sol"}}
                    ],
                },
                {"role": "tool", "name": "get_balance", "content": '{"balance": 1}'},
                {"role": "assistant", "content": "It holds 1."},
            ]
        },
    ]
    path = write_tool_task(tmp_path)
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = load_task(path)
    examples = get_kind("tool_call").read_examples(task, tmp_path / "rows.jsonl")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "tiny-lm")
    vocabulary = hf_tokenizer(tokenizer, [tokenizer.eos_token_id], len(tokenizer))
    tools = Toolset(read_tools(TOOLS, "tools"))
    grammar = compile_grammar(tools.action_schema(), None, json_options=COMPACT_JSON_OPTIONS)[0]
    assert grammar is not None
    for ex in examples:
        action = next(m["content"] for m in ex.target["messages"] if m["role"] == "assistant")
        assert list(json.loads(action)["tool_calls"][0]["arguments"]) == ["chain", "address"]
        matcher = GrammarMatcher(vocabulary, grammar)
        for token in tokenizer(action, add_special_tokens=False)["input_ids"]:
            matcher.advance(token)
            assert not matcher.failed, f"the grammar refuses the trained action {action!r}"
    # a served conversation's earlier call is shown to the model in the same order
    history = rows[1]["messages"][:3]
    shown = conversation_of(history, tools)[1]["content"]
    assert list(json.loads(shown)["tool_calls"][0]["arguments"]) == ["chain", "address"]


# ----------------------------------------------------------------------------- trained


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, ToolCallModel]:
    folder = tmp_path_factory.mktemp("tool-call")
    task = load_task(write_tool_task(folder))
    splits = load_splits(task)
    model = get_kind("tool_call").train(task, splits.train, splits.validation)
    return task, splits, model


def _required(model: ToolCallModel, text: str, name: str | None = None) -> Any:
    choice: Any = {"type": "function", "function": {"name": name}} if name else "required"
    turn = model.chat_turn([{"role": "user", "content": text}], None, choice)
    return model.decide([turn], max_new_tokens=400)[0]


@pytest.mark.slow  # trains a tiny Llama (~30 s on a free core)
def test_training_lowers_validation_loss_and_every_call_validates(trained: Any) -> None:
    _, splits, model = trained
    assert model.config.validation_loss_after < model.config.validation_loss_before
    assert model.config.failed_trajectories_skipped >= 1
    predictions = model.predict([ex.text for ex in splits.test])
    for p in predictions:
        assert p.output["answer"] is not None or p.output["tool_calls"], p
        for call in p.output["tool_calls"]:
            assert call["name"] in {t["function"]["name"] for t in TOOLS}
            assert model.toolset.call_problems(call["name"], call["arguments"]) == []
    for name in ("get_balance", "get_gas_price", "restart_node"):  # forced: still valid
        decision = _required(model, "balance of a12 on eth", name)
        assert decision.names[:1] == [name] and decision.valid, decision


@pytest.mark.slow  # trains a tiny Llama (~30 s on a free core)
def test_confirm_only_calls_are_held_and_low_confidence_calls_escalated(trained: Any) -> None:
    _, _, model = trained
    decision = _required(model, "restart node n3", "restart_node")
    assert {c.status for c in decision.calls} == {"confirm"}
    saved = model.config.threshold
    try:
        model.config.threshold = 1.01  # above any confidence: every call escalated
        decision = _required(model, "gas on sol", "get_gas_price")
        assert decision.calls and {c.status for c in decision.calls} == {"escalate"}
        assert all(0 < c.confidence <= 1 for c in decision.calls)
    finally:
        model.config.threshold = saved


@pytest.mark.slow  # trains a tiny Llama (~30 s on a free core)
def test_a_request_naming_an_undeclared_tool_is_refused(trained: Any) -> None:
    _, _, model = trained
    stranger = [
        {"type": "function", "function": {"name": "mint", "parameters": {"type": "object"}}}
    ]
    with pytest.raises(ValueError, match="mint not declared by this model"):
        model.chat_turn([{"role": "user", "content": "hi"}], stranger)
    with pytest.raises(ValueError, match="not JSON"):
        model.chat_turn([{"role": "user", "content": "x"}, {"role": "tool", "content": "no json"}])


@pytest.mark.slow  # trains a tiny Llama (~30 s on a free core)
def test_evaluation_scores_ast_irrelevance_and_policy(trained: Any) -> None:
    task, splits, model = trained
    evaluation = get_kind("tool_call").evaluate(task, model, splits, baselines=False, latency=True)
    metrics = evaluation.fine_tuned.metrics
    assert metrics["unconfirmed_executions"] == 0
    assert metrics["schema_valid"] in (None, 1.0)
    assert 0 <= metrics["ast_accuracy"] <= 1 and metrics["n"] == len(splits.test)
    assert evaluation.fine_tuned.latency["p95_ms"] >= evaluation.fine_tuned.latency["p50_ms"] > 0
    assert evaluation.fine_tuned.items.observed() == pytest.approx(metrics["ast_accuracy"])


# ----------------------------------------------------------------------------- serve


@pytest.fixture(scope="module")
def served(
    trained: Any, tiny_run: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, Store]]:
    _, _, model = trained
    # The protocol is under test here, not the calibration: a tiny model trained for seconds
    # may sit under its own validation threshold, which would hold every call for review.
    model.config.threshold = 0.0
    with Store(tmp_path_factory.mktemp("db") / "tools.db") as store:
        key = store.create_key("tool-tests")
        app = create_app(tiny_run, store=store, models={"ops": model})
        with live_server(app) as url:
            yield url, key, store


@pytest.fixture(scope="module")
def client(served: tuple[str, str, Store]) -> openai.OpenAI:
    url, key, _ = served
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=120)


@pytest.mark.slow  # trains a tiny Llama (~30 s on a free core)
def test_openai_client_gets_tool_calls_and_held_calls(client: openai.OpenAI) -> None:
    ask = [{"role": "user", "content": "gas on eth"}]
    forced = {"type": "function", "function": {"name": "get_gas_price"}}
    response = client.chat.completions.create(
        model="ops", messages=ask, tools=TOOLS, tool_choice=forced
    )
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.function.name == "get_gas_price"
    assert json.loads(call.function.arguments)["chain"] in ("eth", "sol")
    # the result goes back as a tool message; the conversation continues
    follow = client.chat.completions.create(
        model="ops",
        messages=[
            *ask,
            choice.message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": '{"gwei": 9}'},
        ],
        tools=TOOLS,
        tool_choice="none",
    )
    assert follow.choices[0].message.tool_calls is None
    # a confirm-only call is never handed over to be executed
    held = client.chat.completions.create(
        model="ops",
        messages=[{"role": "user", "content": "restart node n2"}],
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "restart_node"}},
    )
    assert held.choices[0].message.tool_calls is None
    assert held.choices[0].finish_reason == "stop", held.model_dump()
    extra = held.model_extra["narrowtune"]
    assert [c["status"] for c in extra["held_calls"]] == ["confirm"]


@pytest.mark.slow  # trains a tiny Llama (~30 s on a free core)
def test_tool_requests_a_model_cannot_serve_are_refused(client: openai.OpenAI) -> None:
    ask = [{"role": "user", "content": "hi"}]
    stranger = [
        {"type": "function", "function": {"name": "mint", "parameters": {"type": "object"}}}
    ]
    with pytest.raises(openai.BadRequestError, match="mint not declared"):
        client.chat.completions.create(model="ops", messages=ask, tools=stranger)
    with pytest.raises(openai.BadRequestError, match="not among the request's tools"):
        client.chat.completions.create(
            model="ops",
            messages=ask,
            tools=TOOLS[:1],
            tool_choice={"type": "function", "function": {"name": "restart_node"}},
        )


def _tool(name: str, parameters: Any = None) -> dict[str, Any]:
    function: dict[str, Any] = {"name": name}
    if parameters is not None:
        function["parameters"] = parameters
    return {"type": "function", "function": function}


NAN_SCHEMA = {"type": "object", "properties": {"x": {"maximum": float("nan")}}}
BAD_ARGUMENTS = {"function": {"name": "get_gas_price", "arguments": "{oops"}}
HOSTILE = [
    ({"tools": [TOOLS[0]] * 129}, 422),  # over OpenAI's 128 tools
    ({"tools": [_tool("get_gas_price\ud800")]}, 422),  # a lone surrogate
    ({"tools": [_tool("get_gas_price", NAN_SCHEMA)]}, 422),
    (
        {
            "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [{"function": {"name": "\udfff"}}]},
            ]
        },
        422,
    ),
    ({"tools": [_tool("get_gas_price", {"type": "strnig"})]}, 400),  # not a JSON Schema
    ({"tools": [_tool("get_gas_price", [1, 2])]}, 400),
    ({"tools": "everything"}, 422),
    ({"tool_choice": {"type": "function"}}, 400),
    ({"tool_choice": "sometimes"}, 422),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "no"}]}, 400),
    (
        {
            "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [BAD_ARGUMENTS]},
            ]
        },
        400,
    ),
]


@pytest.mark.slow  # trains a tiny Llama (~30 s on a free core)
@pytest.mark.parametrize(("extra", "status"), HOSTILE)
def test_hostile_tool_requests_are_refused_naming_the_problem(
    served: tuple[str, str, Store], extra: dict[str, Any], status: int
) -> None:
    import httpx

    url, key, store = served
    before = len(store.predictions())
    body = {"model": "ops", "messages": [{"role": "user", "content": "gas on eth"}], **extra}
    text = json.dumps(
        body, allow_nan=True
    )  # NaN goes out as the bare token, as an attacker sends it
    response = httpx.post(
        f"{url}/v1/chat/completions",
        content=text.encode("utf-8", "surrogatepass"),
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
        timeout=60,
    )
    assert response.status_code == status, response.text[:400]
    assert response.json()  # a JSON error body, never a 500 page
    assert len(store.predictions()) == before  # nothing recorded


def test_the_threshold_is_the_lowest_meeting_the_precision_target() -> None:
    from narrowtune.kinds.tool_call.train import choose_threshold

    confidences = [0.2, 0.5, 0.6, 0.9, 0.95]
    right = [False, False, True, True, True]
    assert choose_threshold(confidences, right, 0.95)[0] == 0.6
    assert choose_threshold(confidences, right, 0.7)[0] == 0.5  # 3 of 4 kept right
    value, why = choose_threshold([0.3, 0.4], [False, False], 0.9)
    assert value > 0.4 and "every call is escalated" in why
    assert choose_threshold([], [], 0.9)[0] == 0.0


@pytest.mark.slow  # trains a tiny Llama (~30 s on a free core) through the CLI
def test_tool_call_goes_through_train_eval_predict_and_serve(tmp_path: Path) -> None:
    import httpx
    from typer.testing import CliRunner

    from narrowtune.cli import app

    runner = CliRunner()
    task = write_tool_task(tmp_path, few_shot=0)
    trained = runner.invoke(app, ["train", str(task)])
    assert trained.exit_code == 0, trained.output
    (run_dir,) = [
        p
        for p in (tmp_path / "runs" / "tiny-tool-call").iterdir()
        if p.is_dir() and not p.name.startswith(".")
    ]
    assert json.loads((run_dir / "run.json").read_text())["kind"] == "tool_call"
    evaluated = runner.invoke(app, ["eval", str(task)])
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["primary_metric"] == "ast_accuracy"
    assert [s["name"] for s in metrics["systems"]][:2] == ["fine-tuned (LoRA)", "base, zero-shot"]
    (tmp_path / "in.jsonl").write_text('{"request": "gas on sol"}\n{"request": "say hello"}\n')
    out = tmp_path / "out.jsonl"
    predicted = runner.invoke(
        app, ["predict", str(task), str(tmp_path / "in.jsonl"), "-o", str(out)]
    )
    assert predicted.exit_code == 0, predicted.output
    assert len(out.read_text().splitlines()) == 2
    with Store(str(tmp_path / "serve.db")) as store:
        key = store.create_key("tester")
        with live_server(create_app(task, store=store)) as url:
            answer = httpx.post(
                f"{url}/v1/chat/completions",
                json={
                    "messages": [{"role": "user", "content": "gas on eth"}],
                    "tools": TOOLS,
                    "tool_choice": "required",
                },
                headers={"Authorization": f"Bearer {key}"},
                timeout=120,
            )
    assert answer.status_code == 200, answer.text
    assert answer.json()["narrowtune"]["tool_calls"], answer.text
