"""Secrets and personal data that must never be trained on: find them, then mask them.

Detection is regular expressions plus checksums, all offline (no Presidio: its models come from a
hub this project cannot reach):
- seed phrases: 12+ consecutive words all on the BIP-39 English list (separated only by spaces,
  commas or list numbering); evidence says whether a 12/15/18/21/24-word window has a valid
  BIP-39 checksum. No sentence in BANKING77 or the SMS Spam Collection has a run longer than 10.
- private keys: 64 hex digits, optionally 0x. A 0x-prefixed one right after "tx", "txid",
  "hash" or "transaction" is taken as a transaction hash: reported as info, not masked.
- card numbers: 13-19 digits (spaces/dashes allowed), a card-network first digit, Luhn-valid.
- IBANs: country code, check digits, 11-30 more characters; ISO 13616 mod-97 must give 1.
- e-mail addresses; phone numbers in international (+ or 00), national (leading 0, 10-11
  digits) or North-American (3-3-4) form.
- wallet addresses: Ethereum (0x + 40 hex), Bitcoin legacy (base58check-verified) and bech32
  (checksum-verified), Solana-like (base58 decoding to exactly 32 bytes, mixed case and digits).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from narrowtune.data.audit.findings import Severity

MASKS = {
    "seed_phrase": "[SEED_PHRASE]",
    "private_key": "[PRIVATE_KEY]",
    "card_number": "[CARD_NUMBER]",
    "iban": "[IBAN]",
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "wallet_address": "[WALLET_ADDRESS]",
}
SEVERITY: dict[str, Severity] = {
    "seed_phrase": "blocking",
    "private_key": "blocking",
    "card_number": "blocking",
    "iban": "warning",
    "email": "warning",
    "phone": "warning",
    "wallet_address": "warning",
    "tx_hash": "info",
}
DESCRIPTION = {
    "seed_phrase": "wallet seed phrase(s) (BIP-39 word sequences)",
    "private_key": "private key(s) (64 hex digits)",
    "card_number": "payment card number(s) (Luhn-checked)",
    "iban": "IBAN(s) (mod-97 checked)",
    "email": "e-mail address(es)",
    "phone": "phone number(s)",
    "wallet_address": "wallet address(es)",
    "tx_hash": "transaction hash(es) (64 hex after 'tx'/'hash'; left unmasked)",
}
SEED_LENGTHS = (24, 21, 18, 15, 12)
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

_WORDS = re.compile(r"[A-Za-z]+")
_SEED_GAP = re.compile(r"(?:[\s,;]|\d{1,2}[.):]?)+")
_HEX64 = re.compile(r"(?<![0-9A-Za-z])(0x)?[0-9a-fA-F]{64}(?![0-9A-Za-z])")
_TX_CONTEXT = re.compile(r"(?:\btx|txid|txn|hash|transaction)\W{0,12}$", re.IGNORECASE)
_ETH = re.compile(r"(?<![0-9A-Za-z])0x[0-9a-fA-F]{40}(?![0-9A-Za-z])")
_B58 = re.compile(r"(?<![0-9A-Za-z])[1-9A-HJ-NP-Za-km-z]{25,44}(?![0-9A-Za-z])")
_BECH = re.compile(r"(?<![0-9A-Za-z])bc1[02-9ac-hj-np-z]{11,71}(?![0-9A-Za-z])", re.IGNORECASE)
_CARD = re.compile(r"(?<![\d\w])(?:\d[ -]?){12,18}\d(?![\d\w])")
_IBAN = re.compile(r"(?<![0-9A-Za-z])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)\d{1,3}[ .-]?(?:\(?\d{1,4}\)?[ .-]?){1,4}\d{2,4}"  # international
    r"|0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}"  # national, leading 0
    r"|(?:1[ .-])?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}"  # North American 3-3-4
    r")(?!\w)"
)


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    note: str = ""


@cache
def bip39_words() -> frozenset[str]:
    """The 2,048-word BIP-39 English list (shipped by the `mnemonic` package)."""
    from mnemonic import Mnemonic

    return frozenset(Mnemonic("english").wordlist)


@cache
def _checker() -> Any:
    from mnemonic import Mnemonic

    return Mnemonic("english")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    value = candidate.replace(" ", "").upper()
    if not 15 <= len(value) <= 34:
        return False
    moved = value[4:] + value[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _b58decode(text: str) -> bytes | None:
    number = 0
    for ch in text:
        index = BASE58.find(ch)
        if index < 0:
            return None
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def btc_base58_ok(text: str) -> bool:
    """A legacy Bitcoin address: base58check, 25 bytes, version 0x00 or 0x05."""
    raw = _b58decode(text)
    if raw is None or len(raw) != 25 or raw[0] not in (0, 5):
        return False
    return hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4] == raw[-4:]


def solana_like(text: str) -> bool:
    """Base58 that decodes to a 32-byte public key, with digits and both cases (not a word)."""
    if not (32 <= len(text) <= 44):
        return False
    if not (any(c.isdigit() for c in text) and any(c.isupper() for c in text)):
        return False
    if not any(c.islower() for c in text):
        return False
    raw = _b58decode(text)
    return raw is not None and len(raw) == 32


def bech32_ok(text: str) -> bool:
    """BIP-173/350 checksum of a `bc1…` address (bech32 or bech32m)."""
    text = text.lower()
    hrp, _, data = text.rpartition("1")
    values = [BECH32.find(c) for c in data]
    if hrp != "bc" or min(values, default=-1) < 0:
        return False
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    check = 1
    for value in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            check ^= generator[i] if (top >> i) & 1 else 0
    return check in (1, 0x2BC830A3)


def _seed_spans(text: str) -> list[Span]:
    words = bip39_words()
    spans = []
    run: list[re.Match[str]] = []

    def close() -> None:
        if len(run) >= 12:
            phrase = [m.group().lower() for m in run]
            valid = any(
                _checker().check(" ".join(phrase[i : i + n]))
                for n in SEED_LENGTHS
                if n <= len(phrase)
                for i in range(len(phrase) - n + 1)
            )
            note = f"{len(run)} words; BIP-39 checksum {'valid' if valid else 'not valid'}"
            spans.append(Span("seed_phrase", run[0].start(), run[-1].end(), note))

    for match in _WORDS.finditer(text):
        joined = bool(run) and _SEED_GAP.fullmatch(text, run[-1].end(), match.start()) is not None
        if match.group().lower() in words and (not run or joined):
            run.append(match)
            continue
        close()
        run = [match] if match.group().lower() in words else []
    close()
    return spans


def find_secrets(text: str) -> list[Span]:
    """Every secret or personal datum in a text, non-overlapping, in text order."""
    found: list[Span] = []
    if text.count(" ") + text.count(",") >= 11:
        found.extend(_seed_spans(text))
    has_digit = any(c.isdigit() for c in text)
    if has_digit:
        for m in _HEX64.finditer(text):
            tx = m.group(1) and _TX_CONTEXT.search(text, max(0, m.start() - 24), m.start())
            found.append(Span("tx_hash" if tx else "private_key", m.start(), m.end()))
        for m in _ETH.finditer(text):
            found.append(Span("wallet_address", m.start(), m.end(), "ethereum"))
        for m in _BECH.finditer(text):
            if bech32_ok(m.group()):
                found.append(Span("wallet_address", m.start(), m.end(), "bitcoin bech32"))
        for m in _B58.finditer(text):
            if m.group()[0] in "13" and btc_base58_ok(m.group()):
                found.append(Span("wallet_address", m.start(), m.end(), "bitcoin base58"))
            elif solana_like(m.group()):
                found.append(Span("wallet_address", m.start(), m.end(), "base58 32-byte key"))
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_ok(digits):
                found.append(Span("card_number", m.start(), m.end()))
        for m in _IBAN.finditer(text):
            if iban_ok(m.group()):
                found.append(Span("iban", m.start(), m.end()))
    if "@" in text:
        found.extend(Span("email", m.start(), m.end()) for m in _EMAIL.finditer(text))
    if has_digit:
        for m in _PHONE.finditer(text):
            if 8 <= sum(c.isdigit() for c in m.group()) <= 15:
                found.append(Span("phone", m.start(), m.end()))
    # Earlier detectors win an overlap: a card number is not also a phone number.
    kept: list[Span] = []
    for span in found:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def mask_secrets(text: str, spans: Sequence[Span] | None = None) -> str:
    """The text with each secret replaced by its placeholder ([SEED_PHRASE], [EMAIL], …)."""
    spans = find_secrets(text) if spans is None else spans
    out = []
    last = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.kind not in MASKS:
            continue
        out.append(text[last : span.start])
        out.append(MASKS[span.kind])
        last = span.end
    out.append(text[last:])
    return "".join(out)


def snippet(text: str, spans: Sequence[Span], span: Span, width: int = 40) -> str:
    """Context around a secret, masked, so the report never repeats a secret."""
    masked = mask_secrets(text, [s for s in spans if s.kind in MASKS])
    placeholder = MASKS.get(span.kind)
    at = masked.find(placeholder) if placeholder else max(0, span.start)
    start = max(0, at - width)
    return ("…" if start else "") + masked[start : at + width + 16] + "…"
