"""Moderation building blocks: the normaliser, link and address features, the seeded
adversary, threshold choice on validation and the allow/block/review decision."""

from __future__ import annotations

import random

import numpy as np
import pytest

from narrowtune.moderation.features import extract_features
from narrowtune.moderation.moderator import (
    LabelThresholds,
    ModerationConfig,
    Moderator,
    choose_thresholds,
)
from narrowtune.moderation.normalize import Normalizer
from narrowtune.moderation.perturb import PERTURBATIONS, perturb, perturb_all
from narrowtune.task import TaskError

NORMALIZE = Normalizer(words=frozenset({"metamask"}))
PROTECTED = ["metamask.io", "uniswap.org"]


@pytest.mark.parametrize(
    ("disguised", "plain"),
    [
        ("𝐜𝐥𝐚𝐢𝐦 your airdrop", "claim your airdrop"),  # mathematical letters (NFKC)
        ("ｃｌａｉｍ now", "claim now"),  # full-width letters (NFKC)
        ("clаim yоur рrize", "claim your prize"),  # Cyrillic look-alikes in Latin words
        ("cl\u200bai\u200dm no\ufeffw", "claim now"),  # zero-width characters
        ("claim\u202e now", "claim now"),  # a bidi override
        ("fr33 m0ney, cl41m t0day!", "free money, claim today!"),  # leetspeak
        ("m3tamask supp0rt", "metamask support"),  # leetspeak to a word of the training data
        ("c l a i m  n o w", "claim now"),  # spaced-out letters
        ("c̷l̷a̷i̷m̷ it", "claim it"),  # combining marks stacked on letters
        ("visit metamask-verify[.]com", "visit metamask-verify.com"),
        ("hxxps[:]//evil(.)xyz/claim", "https://evil.xyz/claim"),
        ("go to metamask dot io", "go to metamask.io"),
    ],
)
def test_normalizer_undoes_disguises(disguised: str, plain: str) -> None:
    assert NORMALIZE(disguised) == plain


@pytest.mark.parametrize(
    "text",
    [
        "web3 2fa $ETH 0x12ab34cd $100 @alice #defi",  # numbers, cashtags, mentions, hex
        "version 1.2.3 is out, gas is 0.5 gwei on l2",
        "Привет, как дела? Всё хорошо.",  # Cyrillic text is not folded to Latin
        "Ελληνικά κείμενα μένουν όπως είναι",  # and neither is Greek
        "I am ok. see you at 5",
        "🚀🔥💎",
    ],
)
def test_normalizer_leaves_plain_text_alone(text: str) -> None:
    assert NORMALIZE(text) == text


@pytest.mark.parametrize(
    "text", ["", "   ", "\u200b\u200d\ufeff", "🙂" * 50, "\x00\x01\x02", "a" * 100_000]
)
def test_normalizer_never_fails_on_odd_input(text: str) -> None:
    out = NORMALIZE(text)
    assert isinstance(out, str)
    assert len(out) <= len(text)


def test_features_flag_lookalikes_shorteners_ip_links_and_addresses() -> None:
    found = extract_features(
        "claim at https://metamask-support.com/verify or unlswap.org, bit.ly/3xYz, "
        "http://192.168.1.20:8080/x, send to 0x52908400098527886E0F7030069857D2E4169EE7",
        PROTECTED,
    )
    assert set(found.flags) == {
        "link",
        "lookalike_domain",
        "shortened_link",
        "ip_link",
        "wallet_address",
    }
    imitated = {link.host: link.imitates for link in found.links}
    assert imitated["metamask-support.com"] == "metamask.io"
    assert imitated["unlswap.org"] == "uniswap.org"
    assert "[link lookalike of metamask.io]" in found.tags()
    assert any("imitates metamask.io" in r for r in found.reasons())


@pytest.mark.parametrize(
    "text",
    [
        "help is at support.metamask.io",  # a subdomain of the real one
        "see https://uniswap.org/faq",
        "e.g. read file.txt, 3.5 eth",  # not links
    ],
)
def test_features_do_not_flag_the_real_domains_or_non_links(text: str) -> None:
    assert "lookalike_domain" not in extract_features(text, PROTECTED).flags


def test_lookalike_by_homoglyph_is_seen_after_normalising() -> None:
    assert extract_features(NORMALIZE("connect at mеtamask.io now"), PROTECTED).flags == ("link",)
    assert "lookalike_domain" in extract_features("go to rnetamask.io", PROTECTED).flags


def test_perturbation_is_seeded_changes_text_and_normalises_back() -> None:
    texts = [
        "Congratulations you have won a free prize, claim it now",
        "Your account is suspended, verify your wallet at https://prize-claim.com today",
        "Please call me back when you are free tonight",
    ]
    first, again = perturb_all(texts, seed=5), perturb_all(texts, seed=5)
    assert first == again
    assert perturb_all(texts, seed=6) != first
    assert all(p != t for p, t in zip(first, texts, strict=True))
    for kind in PERTURBATIONS:  # each disguise alone is undone by the normaliser
        for i, text in enumerate(texts):
            disguised = perturb(text, random.Random(i), kinds=(kind,))
            restored = Normalizer()(disguised).lower()
            assert restored.split()[:3] == text.lower().split()[:3] or restored == text.lower(), (
                kind,
                disguised,
                restored,
            )


def test_block_threshold_keeps_false_positives_within_budget() -> None:
    rng = np.random.default_rng(0)
    negatives = rng.uniform(0.0, 0.9, size=400)
    positives = rng.uniform(0.6, 1.0, size=100)
    scores = np.concatenate([negatives, positives])
    positive = np.array([False] * 400 + [True] * 100)
    chosen = choose_thresholds(scores, positive, budget=0.01, review_recall=0.95)
    assert chosen.validation_false_positive_rate is not None
    assert chosen.validation_false_positive_rate <= 0.01
    assert np.mean(negatives >= chosen.block) <= 0.01
    assert chosen.block >= 0.5 and chosen.review <= chosen.block
    assert np.mean(positives >= chosen.review) >= 0.95
    assert chosen.note == ""


def test_too_few_negatives_for_the_budget_says_so_and_blocks_none_of_them() -> None:
    scores = np.array([0.7, 0.6, 0.95, 0.99])
    chosen = choose_thresholds(
        scores, np.array([False, False, True, True]), budget=0.01, review_recall=0.9
    )
    assert "cannot be measured" in chosen.note
    assert chosen.block > 0.7


def test_decision_takes_the_worst_outcome_and_says_why() -> None:
    config = ModerationConfig(
        allow_label="benign",
        rules={"lookalike_domain": "review"},
        protected_domains=PROTECTED,
        thresholds={
            "phishing": LabelThresholds(block=0.9, review=0.4),
            "spam": LabelThresholds(block=0.8, review=0.3),
        },
    )
    moderator = Moderator(config)
    assert moderator.decide({"phishing": 0.1, "spam": 0.1}).outcome == "allow"
    review = moderator.decide({"phishing": 0.5, "spam": 0.1})
    assert review.outcome == "review" and "phishing 0.50" in review.reasons[0]
    assert moderator.decide({"phishing": 0.5, "spam": 0.85}).outcome == "block"
    ruled = moderator.decide(
        {"phishing": 0.0, "spam": 0.0}, moderator.features("see metamask-login.com")
    )
    assert ruled.outcome == "review"
    assert any("lookalike_domain" in r for r in ruled.reasons)
    assert any("imitates metamask.io" in r for r in ruled.reasons)


def test_model_input_is_normalised_with_link_tags_and_config_round_trips() -> None:
    config = ModerationConfig(allow_label="ok", protected_domains=PROTECTED)
    moderator = Moderator(config)
    assert moderator.model_input("clаim at metamask-help[.]com") == (
        "claim at metamask-help.com [link lookalike of metamask.io]"
    )
    assert moderator.without_normalization().model_input("fr33") == "fr33"
    again = ModerationConfig.from_dict(config.to_dict())
    assert again == config


def test_task_section_is_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import make_rows, write_csv, write_task

    from narrowtune.task import load_task

    write_csv(tmp_path / "data.csv", make_rows(10))
    with pytest.raises(TaskError, match="allow_label 'benign' is not one of the labels"):
        load_task(write_task(tmp_path, **{"moderation.allow_label": "benign"}))
    with pytest.raises(TaskError, match="not a domain name"):
        load_task(
            write_task(
                tmp_path,
                **{"moderation.allow_label": "refund", "moderation.protected_domains": ["x y"]},
            )
        )
    with pytest.raises(TaskError, match="false_positive_budget"):
        load_task(
            write_task(
                tmp_path,
                **{"moderation.allow_label": "refund", "moderation.false_positive_budget": 0.9},
            )
        )
    task = load_task(write_task(tmp_path, **{"moderation.allow_label": "refund"}))
    assert task.moderation.enabled and task.moderation.normalize
    assert not load_task(write_task(tmp_path)).moderation.enabled
