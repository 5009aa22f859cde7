"""OpenAI-compatible chat completions, driven by the real `openai` client against a live server.

The generative model is real and tiny: a 2-layer GPT-2 built from a config (random weights,
seeded) with a word-level tokenizer built offline by `tokenizers`; its `chat()` runs
`generate`. Its contract: a reply longer than `max_chars` characters is invalid. It is served
next to the session's tiny classifier, so the same server has two models of two kinds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import openai
import pytest
import torch
from live_server import live_server
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from narrowtune.kinds.base import Generation, GenerativeModel, Model, Prediction
from narrowtune.serve import create_app
from narrowtune.store import Store

SENTENCES = (
    "system user assistant the a my your parcel refund order login account money back please",
    "where is package late arrived password reset ok thanks hello yes no when will it be sent",
)
WORDS = [word for sentence in SENTENCES for word in sentence.split()]
MAX_CHARS = 60


class TinyChatModel:
    """A real causal LM, small enough to build in a test: greedy (or sampled) generation."""

    kind = "generate"

    def __init__(self, *, seed: int = 0, max_chars: int = MAX_CHARS, default_tokens: int = 6):
        vocab = {"[PAD]": 0, "[UNK]": 1, "[EOS]": 2}
        for word in WORDS:
            vocab.setdefault(word, len(vocab))
        tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
        tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        tokenizer.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
        self.tokenizer = PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
        )
        torch.manual_seed(seed)
        config = GPT2Config(
            vocab_size=len(vocab),
            n_positions=256,
            n_embd=32,
            n_layer=2,
            n_head=2,
            bos_token_id=2,
            eos_token_id=2,
            pad_token_id=0,
            initializer_range=0.5,  # wide random weights: varied words, not one word repeated
        )
        self.net = GPT2LMHeadModel(config).eval()
        self.max_chars = max_chars
        self.default_tokens = default_tokens

    def chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        stop: Sequence[str] | None = None,
    ) -> Generation:
        if not messages or messages[-1]["role"] != "user":
            raise ValueError("messages: the conversation must end with a user turn")
        prompt = " ".join(f"{m['role']} {m['content']}" for m in messages) + " assistant"
        encoded = self.tokenizer(prompt, return_tensors="pt")
        prompt_tokens = int(encoded["input_ids"].shape[1])
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {}
        with torch.no_grad():
            output = self.net.generate(
                **encoded,
                max_new_tokens=max_new_tokens or self.default_tokens,
                pad_token_id=0,
                suppress_tokens=[0, 1, 2],  # never pad, unknown or end: runs to the length
                repetition_penalty=3.0,
                **({"do_sample": False} | sampling),
            )
        new = output[0, prompt_tokens:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        finish, completion_tokens = "length", int(new.shape[0])
        cuts = [text.find(s) for s in stop or [] if s and s in text]
        if cuts:
            text = text[: min(cuts)].rstrip()
            finish = "stop"
            completion_tokens = len(self.tokenizer(text)["input_ids"])
        problems = []
        if len(text) > self.max_chars:
            problems.append(f"reply has {len(text)} characters, over the limit of {self.max_chars}")
        return Generation(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=finish,
            valid=not problems,
            problems=problems,
        )

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Prediction]:
        predictions = []
        for text in texts:
            reply = self.chat([{"role": "user", "content": text}])
            predictions.append(
                Prediction(
                    label="",
                    confidence=1.0 if reply.valid else 0.0,
                    abstain=not reply.valid,
                    output=reply.text,
                    valid=reply.valid,
                    problems=reply.problems,
                )
            )
        return predictions

    def save(self, directory: Path) -> None:
        self.net.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)


@pytest.fixture(scope="module")
def chat_model() -> TinyChatModel:
    return TinyChatModel()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("db") / "chat.db") as opened:
        yield opened


@pytest.fixture(scope="module")
def key(store: Store) -> str:
    return store.create_key("chat-tests")


@pytest.fixture(scope="module")
def server(tiny_run: Path, chat_model: TinyChatModel, store: Store) -> Iterator[str]:
    app = create_app(tiny_run, store=store, models={"chat": chat_model})
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(server: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server}/v1", api_key=key, max_retries=0, timeout=60)


HELLO = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "where is my parcel please"},
]


def test_the_test_model_is_a_generative_model(chat_model: TinyChatModel) -> None:
    assert isinstance(chat_model, GenerativeModel) and isinstance(chat_model, Model)


def test_models_are_listed_in_openai_shape(client: openai.OpenAI, tiny_run: Path) -> None:
    listed = {m.id: m for m in client.models.list()}
    assert list(listed) == ["tiny", "chat"]
    assert listed["tiny"].object == "model" and listed["tiny"].owned_by == "narrowtune"
    extra = listed["tiny"].model_extra or {}
    assert extra["kind"] == "classify" and extra["run_id"] == tiny_run.name
    assert (listed["chat"].model_extra or {})["kind"] == "generate"
    assert isinstance(listed["tiny"].created, int) and listed["tiny"].created > 1_700_000_000
    assert client.models.retrieve("chat").id == "chat"


def test_completion_is_the_models_own_reply_and_is_stored(
    client: openai.OpenAI, chat_model: TinyChatModel, store: Store
) -> None:
    completion = client.chat.completions.create(model="chat", messages=HELLO, max_tokens=4)
    expected = chat_model.chat(HELLO, max_new_tokens=4)
    assert completion.object == "chat.completion" and completion.model == "chat"
    assert completion.id.startswith("chatcmpl-")
    (choice,) = completion.choices
    assert choice.index == 0 and choice.message.role == "assistant"
    assert choice.message.content == expected.text and len(expected.text.split()) == 4
    assert choice.finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 4
    assert completion.usage.prompt_tokens == expected.prompt_tokens > 4
    assert completion.usage.total_tokens == expected.prompt_tokens + 4
    extra = completion.model_extra or {}
    rows = store.predictions(request_id=extra["narrowtune"]["request_id"])
    (row,) = rows
    assert json.loads(row["text"]) == HELLO
    assert row["output"]["output"] == expected.text and row["output"]["valid"] is True
    assert (row["task"], row["kind"], row["model"]) == ("chat", "generate", "chat")
    assert row["output"]["usage"]["completion_tokens"] == 4 and not row["abstain"]


def test_max_completion_tokens_and_stop(client: openai.OpenAI, chat_model: TinyChatModel) -> None:
    longer = chat_model.chat(HELLO, max_new_tokens=6).text
    words = longer.split()
    short = client.chat.completions.create(model="chat", messages=HELLO, max_completion_tokens=2)
    assert short.choices[0].message.content == " ".join(words[:2])
    stop_word = next(w for w in words[1:] if w != words[0])
    stopped = client.chat.completions.create(
        model="chat", messages=HELLO, max_tokens=6, stop=[stop_word, "never-said"]
    )
    content = stopped.choices[0].message.content
    assert stopped.choices[0].finish_reason == "stop"
    assert content == longer[: longer.find(stop_word)].rstrip() and stop_word not in content


def test_sampling_with_temperature_still_answers(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="chat", messages=HELLO, max_tokens=3, temperature=1.5
    )
    assert len(completion.choices[0].message.content.split()) == 3


def test_streaming_sends_openai_chunks(client: openai.OpenAI, chat_model: TinyChatModel) -> None:
    expected = chat_model.chat(HELLO, max_new_tokens=5).text
    stream = client.chat.completions.create(
        model="chat",
        messages=HELLO,
        max_tokens=5,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == expected
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "length" and set(finishes[:-1]) == {None}
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


def test_an_invalid_reply_is_withheld_and_queued_for_review(
    client: openai.OpenAI, store: Store, chat_model: TinyChatModel
) -> None:
    """By default a reply that broke its contract never reaches the OpenAI client's `content`:
    finish_reason content_filter, the reasons beside it, the text in the review queue."""
    expected = chat_model.chat(HELLO, max_new_tokens=40).text
    assert len(expected) > MAX_CHARS
    completion = client.chat.completions.create(model="chat", messages=HELLO, max_tokens=40)
    choice = completion.choices[0]
    assert choice.message.content is None and choice.finish_reason == "content_filter"
    assert "broke the model's contract" in (choice.message.refusal or "")
    extra = (completion.model_extra or {})["narrowtune"]
    assert extra["valid"] is False and extra["withheld"] is True
    assert "over the limit" in extra["problems"][0]
    queued = [i for i in store.open_reviews(1000, model="chat") if i["output"] == expected]
    assert len(queued) == 1 and queued[0]["valid"] is False
    assert queued[0]["request_id"] == extra["request_id"] and queued[0]["kind"] == "generate"
    # Streamed, the same: no content chunk, the refusal and content_filter instead.
    stream = client.chat.completions.create(
        model="chat", messages=HELLO, max_tokens=40, stream=True
    )
    chunks = [c for c in stream if c.choices]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == ""
    assert chunks[-1].choices[0].finish_reason == "content_filter"


def test_on_invalid_return_hands_the_flagged_reply_over(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="chat", messages=HELLO, max_tokens=40, extra_body={"on_invalid": "return"}
    )
    choice = completion.choices[0]
    assert len(choice.message.content) > MAX_CHARS and choice.finish_reason == "length"
    extra = (completion.model_extra or {})["narrowtune"]
    assert extra["valid"] is False and extra["withheld"] is False
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(
            model="chat", messages=HELLO, extra_body={"on_invalid": "maybe"}
        )


def test_wrong_key_is_an_authentication_error(server: str) -> None:
    wrong = openai.OpenAI(base_url=f"{server}/v1", api_key="nt_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as raised:
        wrong.chat.completions.create(model="chat", messages=HELLO)
    assert raised.value.status_code == 401 and "invalid API key" in raised.value.message
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()


def test_classifier_or_unknown_model_is_refused_by_name(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="tiny", messages=HELLO)
    assert "'tiny' is a classify model" in raised.value.message
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert "no model named 'gpt-4o'" in missing.value.message
    assert "tiny, chat" in missing.value.message
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="chat", messages=[*HELLO, {"role": "assistant", "content": "ok"}]
        )
    assert "must end with a user turn" in refused.value.message
    with pytest.raises(openai.BadRequestError, match="n=1"):
        client.chat.completions.create(model="chat", messages=HELLO, n=2)


def test_bad_chat_requests_are_422_in_openai_shape(server: str, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    url = f"{server}/v1/chat/completions"
    for body, where in (
        ({"model": "chat", "messages": []}, "messages"),
        ({"model": "chat", "messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role"),
        ({"model": "chat", "messages": HELLO, "max_tokens": 0}, "max_tokens"),
        ({"model": "chat", "messages": [{"role": "user", "content": "a\x00b"}]}, "messages.0"),
    ):
        response = httpx.post(url, json=body, headers=headers)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error" and error["param"].startswith(where)
    nul = httpx.post(
        url, json={"messages": [{"role": "user", "content": "a\x00b"}]}, headers=headers
    )
    assert "NUL" in nul.json()["error"]["message"]


def test_predict_passes_structured_outputs_and_picks_models_by_name(
    server: str, key: str, chat_model: TinyChatModel, tiny_run: Path
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    generated = httpx.post(
        f"{server}/v1/predict", json={"model": "chat", "text": "hello"}, headers=headers
    ).json()
    assert (generated["task"], generated["kind"]) == ("chat", "generate")
    (prediction,) = generated["predictions"]
    expected = chat_model.chat([{"role": "user", "content": "hello"}])
    assert prediction["output"] == expected.text and prediction["valid"] is True
    assert prediction["missing"] == [] and prediction["problems"] == []
    default = httpx.post(f"{server}/v1/predict", json={"text": "refund"}, headers=headers).json()
    assert (default["task"], default["model"]) == ("tiny", tiny_run.name)
    unknown = httpx.post(
        f"{server}/v1/predict", json={"model": "nope", "text": "x"}, headers=headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no model named 'nope'; this server has: tiny, chat"
