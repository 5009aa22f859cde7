"""`narrowtune audit`, model-free parts: each check on data made here, bad input, --fix, render."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mnemonic import Mnemonic
from rich.console import Console

from narrowtune.data import DataError, Example, load_splits
from narrowtune.data.audit import (
    CHECKS,
    FAST_CHECKS,
    AuditError,
    AuditReport,
    Finding,
    audit,
    audit_html,
    audit_table,
    collect,
    find_secrets,
    load_rows,
    mask_secrets,
    write_fixed,
)
from narrowtune.data.audit.checks.class_balance import class_balance
from narrowtune.data.audit.checks.conflicting_labels import conflicting_labels
from narrowtune.data.audit.checks.exact_duplicates import exact_duplicates
from narrowtune.data.audit.checks.language_mix import language_mix
from narrowtune.data.audit.checks.leakage import leakage
from narrowtune.data.audit.checks.long_texts import long_texts
from narrowtune.data.audit.checks.near_duplicates import near_duplicates
from narrowtune.data.audit.checks.outliers import outliers
from narrowtune.data.audit.checks.secrets import secrets
from narrowtune.data.audit.duplicates import exact_groups, near_groups
from narrowtune.data.audit.normalize import normalize
from narrowtune.data.audit.registry import AuditContext
from narrowtune.data.audit.secrets import iban_ok, luhn_ok
from narrowtune.task import task_from_mapping

SEED_PHRASE = Mnemonic("english").to_mnemonic(bytes(range(16)))  # 12 words, valid checksum
PRODUCTS = [
    "headphones",
    "blender",
    "winter jacket",
    "phone case",
    "desk lamp",
    "sofa",
    "printer",
    "kettle",
]
DEVICES = [
    "laptop",
    "phone",
    "tablet",
    "work computer",
    "browser",
    "mobile app",
    "desktop",
    "smart TV",
]
TOPICS = {
    "refund": (
        PRODUCTS,
        [
            "I want a refund for the {s} {t}",
            "please give me my money back for the {s} {t}",
            "the {s} was faulty so refund me {t}",
            "can I return the {s} and get my money back {t}",
            "you charged me for a {s} I never received, refund it {t}",
            "how long does a refund for the {s} take {t}",
        ],
    ),
    "shipping": (
        PRODUCTS,
        [
            "where is my parcel with the {s} {t}",
            "the delivery of my {s} is late {t}",
            "tracking for the {s} has not updated {t}",
            "the courier lost my {s} {t}",
            "when will the {s} be delivered {t}",
            "my {s} package is stuck in transit {t}",
        ],
    ),
    "login": (
        DEVICES,
        [
            "I cannot sign in on my {s} {t}",
            "my password is rejected on the {s} {t}",
            "the two factor code never arrives on my {s} {t}",
            "my account is locked on the {s} {t}",
            "the login page on my {s} keeps spinning {t}",
            "I forgot my password and the {s} won't let me reset it {t}",
        ],
    ),
}
OPENERS = [
    "",
    "hi, ",
    "hello team, ",
    "quick question: ",
    "urgent: ",
    "sorry to bother you but ",
    "excuse me, ",
    "help! ",
]
TIMES = [
    "today",
    "since yesterday",
    "this morning",
    "for a week",
    "again",
    "right now",
    "since Monday",
    "after the update",
]


def ex(text: str, label: str = "a", row: int = 1, source: str = "d.jsonl") -> Example:
    return Example(text=text, labels=(label,), source=source, row=row)


def examples_of(pairs: list[tuple[str, str]], source: str = "d.jsonl") -> list[Example]:
    return [ex(t, lab, i + 1, source) for i, (t, lab) in enumerate(pairs)]


def _bigrams(text: str) -> set[str]:
    words = text.lower().split()
    return {" ".join(words[i : i + 2]) for i in range(len(words) - 1)}


def rows(per_label: int, seed: int = 0) -> list[tuple[str, str]]:
    """Distinct, learnable texts; no two closer than word-bigram Jaccard 0.5 (computed exactly)."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, str]] = []
    kept: list[set[str]] = []
    for label, (subjects, templates) in TOPICS.items():
        n = 0
        for _ in range(2000):
            template = templates[int(rng.integers(len(templates)))]
            subject = subjects[int(rng.integers(len(subjects)))]
            opener = OPENERS[int(rng.integers(len(OPENERS)))]
            text = opener + template.format(s=subject, t=TIMES[int(rng.integers(len(TIMES)))])
            grams = _bigrams(text)
            if all(len(grams & k) / len(grams | k) < 0.5 for k in kept):
                out.append((text, label))
                kept.append(grams)
                n += 1
            if n == per_label:
                break
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def write_jsonl(path: Path, records: list[dict | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_task(folder: Path, **data: object) -> object:
    spec = {"train": "train.jsonl", **data}
    return task_from_mapping({"name": "t", "data": spec, "seed": 5}, base_dir=folder)


# ----------------------------------------------------------------------------- duplicates


def test_normalisation_rules() -> None:
    assert normalize("  Hello   World!! ") == normalize("hello world") == "hello world"
    assert normalize("¿Qué tal?") == "qué tal"
    assert normalize("hello, world") != normalize("hello world")  # inner punctuation stays


def test_exact_duplicates_group_normalised_copies() -> None:
    data = examples_of([("Card lost!", "a"), ("card   lost", "a"), ("CARD LOST.", "a"), ("x", "a")])
    assert exact_groups([e.text for e in data]) == [[0, 1, 2]]
    (finding,) = exact_duplicates(data, AuditContext())
    assert finding.severity == "warning" and finding.rows == ["d.jsonl:2", "d.jsonl:3"]
    assert finding.evidence["duplicate_rows"] == 2


def test_near_duplicates_cluster_paraphrases_not_strangers() -> None:
    base = "my card payment was declined at the shop this morning and I do not know why"
    texts = [
        base,
        base.replace("this morning", "this evening"),
        "the weather in Lisbon is lovely in spring, with long sunny days by the sea",
        "please reset my password because the login page keeps rejecting it",
    ]
    assert near_groups(texts, seed=1) == [[0, 1]]
    (finding,) = near_duplicates(examples_of([(t, "a") for t in texts]), AuditContext(seed=1))
    assert finding.rows == ["d.jsonl:2"] and finding.evidence["cluster_sizes"] == [2]


def test_near_duplicate_numbers_fold_so_templates_match() -> None:
    texts = [
        "Call 08712300220 now to claim your prize of 1000 pounds today",
        "Call 09061701461 now to claim your prize of 2000 pounds today",
    ]
    assert near_groups(texts, seed=0) == [[0, 1]]


def test_near_groups_scale_on_many_rows() -> None:
    rng = np.random.default_rng(0)
    vocab = [f"word{i}" for i in range(3000)]
    texts = [" ".join(rng.choice(vocab, 15)) for _ in range(3000)]
    texts += [t + " extra" for t in texts[:50]]  # 50 near copies
    groups = near_groups(texts, seed=0)
    assert len(groups) == 50 and all(len(g) == 2 for g in groups)


# ----------------------------------------------------------------------------- conflicts


def test_conflicting_labels_exact_and_near() -> None:
    data = examples_of(
        [
            ("reset my password", "login"),
            ("Reset my password!", "refund"),
            ("where is my parcel number five it has not arrived yet at all", "shipping"),
            ("where is my parcel number six it has not arrived yet at all", "refund"),
        ]
    )
    exact = exact_groups([e.text for e in data])
    near = near_groups([e.text for e in data], seed=0)
    findings = conflicting_labels(data, AuditContext(exact=exact, near=near))
    kinds = {f.evidence["kind"] for f in findings}
    assert kinds == {"identical (after normalisation)", "near-identical"}
    same = next(f for f in findings if f.evidence["kind"].startswith("identical"))
    assert same.rows == ["d.jsonl:1", "d.jsonl:2"]
    assert same.evidence["groups"][0]["majority"] is None  # 1 vs 1: a tie


# ----------------------------------------------------------------------------- secrets


def test_secret_detectors_and_masks() -> None:
    text = (
        f"seed: {SEED_PHRASE}. key 4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
        " send to 0x52908400098527886E0F7030069857D2E4169EE7 or 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2,"
        " card 4111 1111 1111 1111, iban GB82 WEST 1234 5698 7654 32, mail a.b@example.com,"
        " phone +44 20 7946 0958"
    )
    kinds = [s.kind for s in find_secrets(text)]
    assert kinds == [
        "seed_phrase",
        "private_key",
        "wallet_address",
        "wallet_address",
        "card_number",
        "iban",
        "email",
        "phone",
    ]
    masked = mask_secrets(text)
    for placeholder in (
        "[SEED_PHRASE]",
        "[PRIVATE_KEY]",
        "[WALLET_ADDRESS]",
        "[CARD_NUMBER]",
        "[IBAN]",
        "[EMAIL]",
        "[PHONE]",
    ):
        assert placeholder in masked
    assert "abandon" not in masked and "4111" not in masked and "@" not in masked


def test_secret_checksums_reject_lookalikes() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("DE89370400440532013000") and not iban_ok("DE89370400440532013001")
    quiet = [
        "card 4111 1111 1111 1112 failed",  # Luhn fails
        "ref DE89370400440532013001",  # mod-97 fails
        "I have a problem with my account and I need help with a transfer from last week",
        "order 12345 arrived on 2024-01-15 at 10:30 for 1234.56",
    ]
    assert [find_secrets(t) for t in quiet] == [[], [], [], []]


def test_seed_phrase_needs_twelve_list_words_and_reports_checksum() -> None:
    words = SEED_PHRASE.split()
    assert find_secrets(" ".join(words[:11])) == []
    numbered = " ".join(f"{i}. {w}" for i, w in enumerate(words, start=1))
    (span,) = find_secrets(numbered)
    assert span.kind == "seed_phrase" and "checksum valid" in span.note


def test_transaction_hash_is_not_masked_as_a_key() -> None:
    text = "tx hash 0x" + "ab" * 32 + " is pending"
    (span,) = find_secrets(text)
    assert span.kind == "tx_hash" and mask_secrets(text) == text


def test_secrets_finding_never_repeats_the_secret() -> None:
    data = examples_of([(f"my words are {SEED_PHRASE} help", "a"), ("hello", "a")])
    (finding,) = secrets(data, AuditContext())
    assert finding.severity == "blocking" and finding.rows == ["d.jsonl:1"]
    assert SEED_PHRASE.split()[3] not in json.dumps(finding.to_dict())


# ----------------------------------------------------------------------------- balance, texts


def test_balance_one_class_is_blocking() -> None:
    (finding,) = class_balance(examples_of([("a", "x"), ("b", "x"), ("c", "x")]), AuditContext())
    assert finding.severity == "blocking" and "1 distinct label" in finding.message


def test_balance_small_and_single_classes() -> None:
    pairs = [(f"t{i}", "big") for i in range(40)] + [("s1", "small"), ("s2", "small")]
    pairs += [("only", "lonely")]
    findings = class_balance(
        examples_of(pairs),
        AuditContext(mode="full", declared_labels=("big", "small", "lonely", "unused")),
    )
    messages = " ".join(f.message for f in findings)
    assert any(f.severity == "blocking" and "lonely" in f.message for f in findings)
    assert "fewer than 16 training examples for full training" in messages
    assert "imbalanced 40:1" in messages and "unused" in messages


def test_long_texts_reported_not_cut() -> None:
    long = "word " * 3000
    (finding,) = long_texts(examples_of([(long, "a"), ("short", "a")]), AuditContext(max_length=64))
    assert finding.rows == ["d.jsonl:1"] and finding.evidence["longest_chars"] == len(long)


def test_language_mix_names_other_scripts() -> None:
    pairs = [(f"hello there number {i}", "a") for i in range(30)]
    pairs += [("Привет, где моя посылка?", "a"), ("我的包裹在哪里", "a")]
    (finding,) = language_mix(examples_of(pairs), AuditContext())
    assert set(finding.evidence["shares"]) == {"LATIN", "CYRILLIC", "CJK"}
    assert finding.rows == ["d.jsonl:31", "d.jsonl:32"]


def test_leakage_across_splits() -> None:
    data = examples_of(
        [("reset my password", "a"), ("parcel late", "b"), ("Reset my password.", "a")]
    )
    (finding,) = leakage(data, AuditContext(split_of=("train", "train", "test")))
    assert finding.rows == ["d.jsonl:3"] and finding.evidence["per_split"]["test"] == 1


def test_outliers_on_embeddings() -> None:
    rng = np.random.default_rng(0)
    centre = rng.normal(size=16)
    emb = centre + 0.05 * rng.normal(size=(60, 16))
    emb[7] = rng.normal(size=16) * 3  # far from everything
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    (finding,) = outliers(
        examples_of([(f"t{i}", "a") for i in range(60)]), AuditContext(embeddings=emb)
    )
    assert finding.rows[0] == "d.jsonl:8"


# ----------------------------------------------------------------------------- bad input


def test_empty_file_is_a_blocking_finding(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text("")
    report = audit(make_task(tmp_path), fast=True)
    (finding,) = report.blocking()
    assert "holds no examples" in finding.message and report.stats["splits"]["train"] == 0


def test_malformed_jsonl_line_in_the_middle(tmp_path: Path) -> None:
    records: list[dict | str] = [{"text": t, "label": lab} for t, lab in rows(4)]
    records.insert(5, '{"text": "broken", "label": ')
    path = write_jsonl(tmp_path / "train.jsonl", records)
    loaded = load_rows(path)
    assert len(loaded.examples) == 12  # nothing else lost
    (finding,) = loaded.findings
    assert finding.check == "malformed_rows" and finding.severity == "blocking"
    assert finding.rows == [f"{path}:6"] and f"{path}:6: not valid JSON" in finding.message
    with pytest.raises(DataError, match=r"train.jsonl:6: not valid JSON"):
        load_rows(path, stop_on_error=True)
    with pytest.raises(DataError, match=r":6: not valid JSON"):
        audit(make_task(tmp_path), fast=True, stop_on_error=True)


def test_missing_labels_and_empty_texts(tmp_path: Path) -> None:
    records: list[dict | str] = [{"text": t, "label": lab} for t, lab in rows(4)]
    records[2] = {"text": "no label here", "label": ""}
    records[7] = {"text": "   ", "label": "refund"}
    write_jsonl(tmp_path / "train.jsonl", records)
    report = audit(make_task(tmp_path), fast=True)
    checks = {f.check: f for f in report.blocking()}
    assert checks["missing_labels"].rows[0].endswith("train.jsonl:3")
    assert checks["empty_texts"].rows[0].endswith("train.jsonl:8")
    assert (
        report.stats["splits"]["train"]
        + report.stats["splits"]["validation"]
        + report.stats["splits"]["test"]
        == 10
    )


def test_one_class_file_and_very_long_text(tmp_path: Path) -> None:
    long = "my parcel is late " * 3000
    write_jsonl(
        tmp_path / "train.jsonl",
        [{"text": long, "label": "x"}]
        + [{"text": f"parcel {i} late", "label": "x"} for i in range(9)],
    )
    report = audit(make_task(tmp_path), fast=True)
    assert any(f.check == "class_balance" and f.severity == "blocking" for f in report.findings)
    (_,) = [f for f in report.findings if f.check == "long_texts" and "truncated" in f.message]
    data = collect(make_task(tmp_path))
    assert max(len(e.text) for e in data.examples) == len(long)  # kept whole


def test_unknown_check_name_suggests() -> None:
    with pytest.raises(AuditError, match="did you mean 'secrets'"):
        audit(task_from_mapping({"name": "t", "data": {"train": "x.jsonl"}}), checks=["secret"])


def test_collect_splits_like_load_splits(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", [{"text": t, "label": lab} for t, lab in rows(10)])
    task = make_task(tmp_path)
    data, splits = collect(task), load_splits(task)
    assert data.splits == splits


# ----------------------------------------------------------------------------- audit, fix, render


def _problem_data(tmp_path: Path) -> object:
    pairs = rows(12, seed=1)
    records: list[dict | str] = [{"text": t, "label": lab} for t, lab in pairs]
    records.append({"text": pairs[0][0].upper() + "!", "label": pairs[0][1]})  # exact duplicate
    records.append({"text": pairs[1][0] + " please", "label": pairs[1][1]})  # near duplicate
    records.append({"text": pairs[2][0], "label": "refund" if pairs[2][1] != "refund" else "login"})
    records.append({"text": f"I pasted my wallet words {SEED_PHRASE} by mistake", "label": "login"})
    records.append('{"text": oops')
    write_jsonl(tmp_path / "train.jsonl", records)
    test = [{"text": pairs[3][0], "label": pairs[3][1]}]  # leaks from train
    test += [{"text": t, "label": lab} for t, lab in rows(3, seed=9)]
    write_jsonl(tmp_path / "test.jsonl", test)
    return make_task(tmp_path, test="test.jsonl")


def test_fast_audit_finds_each_planted_problem(tmp_path: Path) -> None:
    task = _problem_data(tmp_path)
    seen: list[str] = []
    report = audit(task, fast=True, progress=lambda stage, done, total: seen.append(stage))
    assert report.stats["checks"] == list(FAST_CHECKS) and "encode" not in seen
    found = {f.check for f in report.findings}
    assert {
        "exact_duplicates",
        "conflicting_labels",
        "secrets",
        "leakage",
        "malformed_rows",
    } <= found
    assert {f.check for f in report.blocking()} == {"secrets", "malformed_rows"}
    json.dumps(report.to_dict())  # JSON-safe


def test_every_registered_check_takes_examples_and_a_context() -> None:
    data = examples_of([(t, lab) for t, lab in rows(5)])
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(data), 8))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    context = AuditContext(embeddings=emb, split_of=("train",) * len(data), seed=0)
    for name, info in CHECKS.items():
        assert info.description and info.name == name
        result = info.run(data, context)
        assert isinstance(result, list) and all(isinstance(f, Finding) for f in result), name
        with pytest.raises(TypeError):  # no `**_`: an option a check does not take is an error
            info.run(data, context, unused=1)


def test_unknown_check_options_are_refused(tmp_path: Path) -> None:
    task = _problem_data(tmp_path)
    with pytest.raises(AuditError, match=r"has no option 'kk'.*takes: k, iqr_factor"):
        audit(task, options={"outliers": {"kk": 3}})
    with pytest.raises(AuditError, match="unknown audit check 'outlier'"):
        audit(task, options={"outlier": {"k": 3}})
    report = audit(task, checks=["outliers"], options={"outliers": {"k": 3}})
    assert report.stats["checks"] == ["outliers"]


def test_write_fixed_cleans_and_never_overwrites(tmp_path: Path) -> None:
    task = _problem_data(tmp_path)
    report = audit(
        task,
        checks=["exact_duplicates", "near_duplicates", "conflicting_labels", "leakage", "secrets"],
    )
    with pytest.raises(DataError, match="refusing to overwrite"):
        write_fixed(task, report, tmp_path / "train.jsonl")
    out = tmp_path / "clean" / "fixed.jsonl"
    counts = write_fixed(task, report, out)
    written = [json.loads(line) for line in out.read_text().splitlines()]
    review = [json.loads(line) for line in (tmp_path / "clean" / "fixed.review.jsonl").open()]
    assert counts["written"] == len(written) and counts["dropped_exact_duplicates"] == 1
    assert counts["dropped_near_duplicates"] == 1 and counts["dropped_leaking"] == 1
    assert counts["masked_secrets"] == {"seed_phrase": 1}
    assert any("[SEED_PHRASE]" in r["text"] for r in written)
    assert not any(SEED_PHRASE.split()[2] in line for line in out.read_text().splitlines())
    reasons = sorted(r["reason"] for r in review)
    assert reasons == ["conflicting_labels", "conflicting_labels", "malformed_rows"]
    assert counts["input_rows"] == len(written) + len(review) + 3  # 3 dropped, nothing lost
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == [
        "fixed.jsonl",
        "fixed.review.jsonl",
    ]  # no temp files left


def test_render_table_and_html_escape() -> None:
    report = AuditReport(
        findings=[Finding("secrets", "blocking", "found <script>[EMAIL]</script>", ["a:1"], {})],
        stats={},
        seconds=0.5,
    )
    console = Console(record=True, width=160)
    console.print(audit_table(report))
    assert "[EMAIL]" in console.export_text()
    html = audit_html(report)
    assert "<script>" not in html and "&lt;script&gt;" in html and "1 blocking" in html
