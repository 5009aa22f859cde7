"""Normalisers: turn the text of a span into the typed value a schema field holds.

A field picks one with `"x-narrowtune-normalize": "<name>"` in its schema; without a hint the
JSON type and `format` decide (`number`/`integer` types, `format: date`, `format: uri`…). Each
normaliser raises `ValueError` with a readable message when the text is not what it expects, so
the caller can null the field and say why instead of guessing.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_NUMBER = re.compile(
    r"(?P<sign>[-+])?\s*(?P<cur>[$€£¥])?\s*"
    r"(?P<num>(?:\d{1,3}(?:[,\u00a0\u202f ]\d{3})+|\d+)(?:\.\d+)?|\.\d+)\s*"
    r"(?P<scale>thousand|million|billion|mm|bn|[kmb])?\b",
    re.IGNORECASE,
)
_SCALES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}
_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        [
            *("zero", "one", "two", "three", "four", "five", "six"),
            *("seven", "eight", "nine", "ten", "eleven", "twelve"),
        ]
    )
}
_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CURRENCY_WORDS = {
    "dollar": "USD",
    "dollars": "USD",
    "usd": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "ether": "ETH",
    "eth": "ETH",
    "bitcoin": "BTC",
}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}(?![0-9a-fA-F])")
_ENS = re.compile(r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.eth\b", re.IGNORECASE)
_TOKEN = re.compile(r"\$?([A-Za-z][A-Za-z0-9.]{0,11})")
_EDGE = string.punctuation.replace("$", "").replace("%", "") + "“”‘’«»"


def _number(text: str) -> float:
    """The first number in `text`: thousands separators, currency signs and k/m/b scales."""
    match = _NUMBER.search(text)
    if match is None:
        word = text.strip().lower()
        if word in _WORD_NUMBERS:
            return float(_WORD_NUMBERS[word])
        raise ValueError(f"no number in {text!r}")
    value = float(re.sub(r"[,\u00a0\u202f ]", "", match["num"]))
    if match["scale"]:
        value *= _SCALES[match["scale"].lower()]
    return -value if match["sign"] == "-" else value


def normalize_text(text: str) -> str:
    """Whitespace collapsed (the text is otherwise kept as written)."""
    return " ".join(text.split())


def fold_text(text: str) -> str:
    """For lenient comparison: whitespace collapsed, case folded, edge punctuation stripped."""
    return " ".join(text.split()).strip(_EDGE + " ").casefold()


def normalize_amount(text: str) -> float:
    """'250,000 USDC' -> 250000.0; '$1.5M' -> 1500000.0; '12k' -> 12000.0."""
    return _number(text)


def normalize_number(text: str) -> float:
    return _number(text)


def normalize_integer(text: str) -> int:
    value = _number(text)
    if value != int(value):
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def normalize_percentage(text: str) -> float:
    """'12.5%' / '12.5 percent' -> 12.5 (percentage points, not a fraction)."""
    return _number(text.replace("%", " "))


def normalize_token(text: str) -> str:
    """A currency or token symbol: '$' -> 'USD', 'usdc' -> 'USDC', '$ENS' -> 'ENS'."""
    cleaned = text.strip().strip(_EDGE)
    if cleaned in _CURRENCY_SIGNS:
        return _CURRENCY_SIGNS[cleaned]
    if cleaned.lower() in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[cleaned.lower()]
    words = [w for w in re.split(r"\s+", cleaned) if w]
    # "250,000 USDC": the symbol is the word that is not a number
    for word in reversed(words):
        if word in _CURRENCY_SIGNS:
            return _CURRENCY_SIGNS[word]
        match = _TOKEN.fullmatch(word.strip(_EDGE))
        if match:
            symbol = match.group(1)
            return _CURRENCY_WORDS.get(symbol.lower(), symbol.upper())
    raise ValueError(f"no token or currency symbol in {text!r}")


def normalize_address(text: str) -> str:
    """A 0x-prefixed 40-hex-digit address as written (its case may be an EIP-55 checksum;
    comparisons fold case) or an ENS name (lower-cased)."""
    match = _ADDRESS.search(text)
    if match:
        return match.group(0)
    ens = _ENS.search(text)
    if ens:
        return ens.group(0).lower()
    raise ValueError(f"{text!r} is not a 0x… address (40 hex digits) or an ENS name")


def normalize_url(text: str) -> str:
    """Scheme added when missing, scheme and host lower-cased, trailing punctuation dropped."""
    cleaned = text.strip().strip("<>\"'").rstrip(".,;:!?)")
    if "://" not in cleaned:
        cleaned = "https://" + cleaned
    parts = urlsplit(cleaned)
    if not parts.netloc or "." not in parts.netloc:
        raise ValueError(f"{text!r} is not a URL")
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment)
    )


def normalize_date(text: str) -> str:
    """An ISO date (YYYY-MM-DD) from '3 March 2024', 'March 3rd, 2024', '2024-03-03'…"""
    from dateutil import parser

    try:
        parsed = parser.parse(text, fuzzy=True, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r} is not a date") from exc
    return parsed.date().isoformat()


def normalize_datetime(text: str) -> str:
    from dateutil import parser

    try:
        return parser.parse(text, fuzzy=True).isoformat()
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r} is not a date and time") from exc


def normalize_lower(text: str) -> str:
    return normalize_text(text).lower()


NORMALIZERS: dict[str, Callable[[str], Any]] = {
    "text": normalize_text,
    "lower": normalize_lower,
    "number": normalize_number,
    "integer": normalize_integer,
    "amount": normalize_amount,
    "percentage": normalize_percentage,
    "token": normalize_token,
    "currency": normalize_token,
    "address": normalize_address,
    "url": normalize_url,
    "date": normalize_date,
    "datetime": normalize_datetime,
}


def normalize(name: str, text: str) -> Any:
    """Apply normaliser `name` to `text`; ValueError when the text does not fit."""
    return NORMALIZERS[name](text)


def comparable(name: str, value: Any) -> Any:
    """A form of `value` for lenient comparison: normalised, case- and whitespace-folded.

    Gold values may already be typed (250000.0) or still raw ('250k'); both sides go through
    the same normaliser so only a real difference counts as a miss.
    """
    if value is None:
        return None
    if isinstance(value, list):
        return [comparable(name, v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return round(float(value), 6)
    text = str(value)
    if name not in ("text", "lower"):
        try:
            value = normalize(name, text)
        except ValueError:
            value = text
        if isinstance(value, int | float) and not isinstance(value, bool):
            return round(float(value), 6)
    return fold_text(str(value))
