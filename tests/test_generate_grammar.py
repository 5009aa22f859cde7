"""Grammar-constrained decoding of JSON Schema and regex contracts (llguidance).

The models here are real: a tiny random causal LM built from a config (it writes noise unless
the grammar keeps it in line, which is what makes the constraint visible) and, in the slow
tests, the bundled Gemma 3 270M on transformers and on llama.cpp.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from test_generate_tiny import build_tiny_lm, reply_rows

from narrowtune.kinds.generate.contract import Contract, ContractError
from narrowtune.task import TaskError, load_task

ROUTE_SCHEMA = {
    "type": "object",
    "properties": {
        "route": {"enum": ["billing", "shipping", "login"]},
        "urgent": {"type": "boolean"},
    },
    "required": ["route", "urgent"],
    "additionalProperties": False,
}
ANSWER_REGEX = r"(yes|no): [a-z]{3,8}\."
PROMPTS = ["refund 12 please", "parcel 7 is late", "cannot log in", "where is 99"]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = reply_rows(8)
    folder = tmp_path_factory.mktemp("grammar") / "tiny-lm"
    return build_tiny_lm(folder, [r["prompt"] + "\n" + r["completion"] for r in rows], seed=5)


def _model(folder: Path, contract: dict, *, max_new_tokens: int = 160):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from narrowtune.kinds.generate.model import GenerateConfig, GenerateModel

    tokenizer = AutoTokenizer.from_pretrained(folder)
    lm = AutoModelForCausalLM.from_pretrained(folder)
    config = GenerateConfig(base=str(folder), max_new_tokens=max_new_tokens, fine_tuned=False)
    return GenerateModel(lm, tokenizer, config, Contract(contract))


def _conversations() -> list[list[dict[str, str]]]:
    return [[{"role": "user", "content": p}] for p in PROMPTS]


# ----------------------------------------------------------------------------- compiling


def test_schema_and_regex_contracts_compile_to_grammars() -> None:
    schema = Contract({"json_schema": ROUTE_SCHEMA})
    assert schema.grammar is not None and "JSON Schema" in schema.grammar_note
    regex = Contract({"regex": ANSWER_REGEX})
    assert regex.grammar is not None
    both = Contract({"json_schema": ROUTE_SCHEMA, "regex": ".*"})
    assert "regex is checked after generation only" in both.grammar_note
    assert Contract({"sections": [{"name": "a", "pattern": "^Hi"}]}).grammar is None
    off = Contract({"json_schema": ROUTE_SCHEMA, "constrain": "never"})
    assert off.grammar is None and "constrain: never" in off.grammar_note
    assert Contract(schema.to_dict()).grammar == schema.grammar
    assert off.to_dict()["constrain"] == "never"


def test_a_regex_the_grammar_engine_cannot_compile_falls_back_to_checking() -> None:
    """Python look-arounds are valid contract regexes: checked and retried, just not steered;
    asking for `constrain: always` with one is refused, naming the reason."""
    lookahead = r"(?=yes)\w+"
    contract = Contract({"regex": lookahead})
    assert contract.grammar is None
    assert "look-around" in contract.grammar_note
    assert contract.check("yes") == []
    with pytest.raises(ContractError, match=r"constrain: always needs a grammar.*look-around"):
        Contract({"regex": lookahead, "constrain": "always"})
    with pytest.raises(ContractError, match="no JSON Schema or regex"):
        Contract({"sections": [{"name": "a", "pattern": "^Hi"}], "constrain": "always"})


def test_an_unknown_constrain_mode_fails_at_task_load(tmp_path: Path) -> None:
    (tmp_path / "pairs.jsonl").write_text('{"prompt": "a", "completion": "b"}\n')
    (tmp_path / "task.yaml").write_text(
        "name: t\nkind: generate\ndata: {train: pairs.jsonl}\n"
        "generate:\n  contract:\n    regex: 'a+'\n    constrain: sometimes\n"
    )
    with pytest.raises(TaskError, match=r"task\.yaml:\d+: .*constrain"):
        load_task(tmp_path / "task.yaml")


# ----------------------------------------------------------------------------- decoding


def test_the_grammar_keeps_a_random_model_inside_the_schema(tiny_lm: Path) -> None:
    model = _model(tiny_lm, {"json_schema": ROUTE_SCHEMA, "retries": 0})
    free = model._generate(_conversations())
    assert all(model.contract.check(text) for text, *_ in free)  # noise without the grammar
    for temperature in (0.0, 0.9):
        steered = model._generate(_conversations(), constrained=True, temperature=temperature)
        for text, confidence, _, n_done, finish in steered:
            assert model.contract.check(text) == [], text
            assert finish == "stop" and n_done > 0
            assert 0.0 < confidence < 1.0
            assert json.loads(text)["route"] in ROUTE_SCHEMA["properties"]["route"]["enum"]


def test_regex_contracts_are_steered_too(tiny_lm: Path) -> None:
    model = _model(tiny_lm, {"regex": ANSWER_REGEX}, max_new_tokens=40)
    for text, *_ in model._generate(_conversations(), constrained=True):
        assert re.fullmatch(ANSWER_REGEX, text), text


def test_retries_are_constrained_and_always_constrains_the_first_try(tiny_lm: Path) -> None:
    retry = _model(tiny_lm, {"json_schema": ROUTE_SCHEMA, "retries": 1})
    checked = retry.generate_checked(_conversations())
    assert all(c.first_problems for c in checked)  # the first, free try is noise
    assert all(c.valid and c.attempts == 2 for c in checked)
    always = _model(tiny_lm, {"json_schema": ROUTE_SCHEMA, "constrain": "always", "retries": 0})
    assert all(c.valid and c.attempts == 1 for c in always.generate_checked(_conversations()))
    never = _model(tiny_lm, {"json_schema": ROUTE_SCHEMA, "constrain": "never", "retries": 1})
    assert not any(c.valid for c in never.generate_checked(_conversations()))


def test_a_retry_that_would_repeat_the_first_try_samples_instead(
    tiny_lm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Greedy attempt 2 only differs from attempt 1 with something banned or a grammar added;
    otherwise it would cost a whole generation to return the same failing text."""
    never = {"sections": [{"name": "x", "pattern": "^NEVER$"}], "retries": 2}
    cases = [
        ({**never}, [0.0, 0.7, 0.7]),
        ({**never, "forbidden": ["Topic"]}, [0.0, 0.0, 0.7]),
        ({"json_schema": {"type": "string", "pattern": "^NEVER$"}, "retries": 1}, [0.0, 0.0]),
    ]
    for contract, temperatures in cases:
        model = _model(tiny_lm, contract, max_new_tokens=8)
        seen: list[tuple[float, bool]] = []
        generate = model._generate

        def spy(*args, _generate=generate, _seen=seen, **kwargs):
            _seen.append((kwargs.get("temperature", 0.0), kwargs.get("constrained", False)))
            return _generate(*args, **kwargs)

        monkeypatch.setattr(model, "_generate", spy)
        [checked] = model.generate_checked(_conversations()[:1])
        assert [t for t, _ in seen] == temperatures, contract
        assert checked.attempts == len(temperatures)
        grammar = model.contract.grammar is not None
        assert [c for _, c in seen] == [False] + [grammar] * (len(temperatures) - 1)


def test_a_ban_that_takes_the_grammars_only_choice_leaves_the_output_valid_and_flagged(
    tiny_lm: Path,
) -> None:
    """The schema forces the word; the forbidden phrase bans it. The grammar wins the token and
    the check flags the phrase: nothing is hidden, nothing breaks."""
    schema = {
        "type": "object",
        "properties": {"route": {"const": "billing"}},
        "required": ["route"],
        "additionalProperties": False,
    }
    model = _model(tiny_lm, {"json_schema": schema, "forbidden": ["billing"], "retries": 0})
    [(text, *_)] = model._generate(_conversations()[:1], constrained=True, ban_forbidden=True)
    assert json.loads(text) == {"route": "billing"}
    assert model.contract.check(text) == ["forbidden phrase 'billing'"]


def test_the_processor_returns_new_scores_so_confidence_uses_the_raw_logits(
    tiny_lm: Path,
) -> None:
    from narrowtune.kinds.lm.causal import GrammarLogits

    model = _model(tiny_lm, {"json_schema": ROUTE_SCHEMA})
    matchers = model._matchers(2)
    width = len(model.tokenizer)
    processor = GrammarLogits(matchers, prompt_width=3, stop_ids=model._stop_ids)
    scores = torch.randn(2, width)
    before = scores.clone()
    out = processor(torch.zeros((2, 3), dtype=torch.long), scores)
    assert torch.equal(scores, before)
    allowed = torch.isfinite(out[0])
    assert 0 < int(allowed.sum()) < width
    opening = [model.tokenizer.decode([i]) for i in torch.nonzero(allowed).flatten().tolist()]
    assert all(t.strip() == "" or t.lstrip().startswith("{") for t in opening), opening


# ----------------------------------------------------------------------------- real models


GEMMA_SCHEMA = {
    "type": "object",
    "properties": {
        "intent": {"enum": ["refund", "delivery", "sign_in", "other"]},
        "urgent": {"type": "boolean"},
        "summary": {"type": "string", "minLength": 3, "maxLength": 60},
    },
    "required": ["intent", "urgent", "summary"],
    "additionalProperties": False,
}
GEMMA_SYSTEM = "Triage the support ticket. Answer with one JSON object."
TICKETS = [
    "My parcel has not arrived after two weeks, order 5521.",
    "I was charged twice for the same subscription, please refund one.",
    "The app says my password is wrong but I just reset it.",
]


@pytest.mark.slow
def test_gemma_output_meets_a_json_schema_when_constrained() -> None:
    """The bundled base model, prompted: every constrained reply is valid against the schema."""
    from narrowtune.kinds.generate.model import GenerateConfig, GenerateModel, load_base
    from narrowtune.kinds.lm.base import DEFAULT_GENERATE_BASE

    lm, tokenizer, _ = load_base(DEFAULT_GENERATE_BASE)
    config = GenerateConfig(base=DEFAULT_GENERATE_BASE, system=GEMMA_SYSTEM, max_new_tokens=80)
    model = GenerateModel(lm, tokenizer, config, Contract({"json_schema": GEMMA_SCHEMA}))
    conversations = [model.messages_for(t) for t in TICKETS]
    for text, _, _, _, finish in model._generate(conversations, constrained=True):
        assert model.contract.check(text) == [], text
        assert finish == "stop"


@pytest.mark.slow
def test_llama_cpp_output_meets_a_json_schema_when_constrained() -> None:
    pytest.importorskip("llama_cpp", reason='optional: pip install "narrowtune[llamacpp]"')
    from narrowtune.kinds.generate.llamacpp import GgufGenerator
    from narrowtune.kinds.lm.base import gguf_file
    from narrowtune.kinds.lm.grammar import GrammarMatcher, llamacpp_tokenizer

    contract = Contract({"json_schema": GEMMA_SCHEMA})
    assert contract.grammar is not None
    with GgufGenerator(gguf_file(), n_ctx=1024, n_threads=1, system=GEMMA_SYSTEM) as runner:
        tokenizer = llamacpp_tokenizer(runner.llm, sorted(runner.stops))
        for ticket in TICKETS:
            text, confidence, _, _, finish = runner.complete(
                [{"role": "user", "content": ticket}],
                max_new_tokens=80,
                grammar=GrammarMatcher(tokenizer, contract.grammar),
            )
            assert contract.check(text) == [], text
            assert finish == "stop" and 0 < confidence < 1


# ----------------------------------------------------------------------------- serving


@pytest.fixture(scope="module")
def served(tiny_lm: Path, tmp_path_factory: pytest.TempPathFactory):
    """narrowtune's own server with the tiny generator (no contract of its own) behind it."""
    import openai
    from live_server import live_server

    from narrowtune.serve import create_app
    from narrowtune.store import Store

    with Store(tmp_path_factory.mktemp("db") / "grammar.db") as store:
        key = store.create_key("grammar")
        app = create_app(store=store, models={"drafter": _model(tiny_lm, {})})
        with live_server(app) as url:
            yield openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0), store


def test_response_format_json_schema_is_honoured_by_the_server(served) -> None:
    client, store = served
    fmt = {"type": "json_schema", "json_schema": {"name": "route", "schema": ROUTE_SCHEMA}}
    for prompt in PROMPTS[:2]:
        reply = client.chat.completions.create(
            model="drafter",
            messages=[{"role": "user", "content": prompt}],
            response_format=fmt,
            max_tokens=160,
        )
        value = json.loads(reply.choices[0].message.content)
        assert value["route"] in ROUTE_SCHEMA["properties"]["route"]["enum"]
        assert reply.choices[0].finish_reason == "stop"
    newest = store.predictions(limit=1)[0]  # stored as valid: not queued for review
    assert not newest["abstain"] and newest["output"]["output"] == reply.choices[0].message.content
    plain = client.chat.completions.create(
        model="drafter", messages=[{"role": "user", "content": PROMPTS[0]}], max_tokens=12
    )
    with pytest.raises(json.JSONDecodeError):  # without it, the random model writes noise
        json.loads(plain.choices[0].message.content)


def test_bad_response_formats_are_400_naming_the_problem(served) -> None:
    import openai

    client, _ = served
    messages = [{"role": "user", "content": "hi"}]
    for fmt, message in (
        ({"type": "yaml"}, "response_format must be"),
        ({"type": "json_schema", "json_schema": {"name": "x"}}, r"json_schema\.schema must be"),
        (
            {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": 3}}},
            "not a valid JSON Schema",
        ),
    ):
        with pytest.raises(openai.BadRequestError, match=message):
            client.chat.completions.create(model="drafter", messages=messages, response_format=fmt)
