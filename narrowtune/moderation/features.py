"""What a message links to and which wallet addresses it carries: the signals a moderator looks
at first. Links are read from normalised text (so defanged links count), split into host and
registered domain with `tldextract` (its bundled public-suffix list; nothing is fetched), and
compared with the task's protected brand domains: an edit distance of one or two, the same name
under another suffix, the brand's name inside someone else's domain, or a name equal to the
brand's once look-alike letters are folded — each makes a look-alike.

`Features.flags` names what was found (usable as rules); `Features.tags` is a short text the
model reads after the message (usable as model input).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from narrowtune.moderation.normalize import fold_confusables

Flag = Literal["link", "shortened_link", "lookalike_domain", "ip_link", "wallet_address"]
FLAGS: tuple[Flag, ...] = (
    "link",
    "shortened_link",
    "lookalike_domain",
    "ip_link",
    "wallet_address",
)

# Well-known link shorteners: the destination cannot be checked offline.
SHORTENERS = frozenset(
    [
        "bit.ly",
        "tinyurl.com",
        "t.co",
        "goo.gl",
        "is.gd",
        "cutt.ly",
        "rb.gy",
        "t.ly",
        "shorturl.at",
        "ow.ly",
        "buff.ly",
        "tiny.cc",
        "rebrand.ly",
        "s.id",
        "v.gd",
        "bl.ink",
        "shorte.st",
        "adf.ly",
        "lnkd.in",
    ]
)

_URL = re.compile(
    r"(?<![\w@.-])(?:https?://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"
    r"|\d{1,3}(?:\.\d{1,3}){3})(?::\d{2,5})?(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_ADDRESSES = {
    "evm": re.compile(r"\b0x[0-9a-fA-F]{40}\b"),
    "bitcoin": re.compile(r"\b(?:bc1[02-9ac-hj-np-z]{25,59}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b"),
    "solana": re.compile(r"\b[1-9A-HJ-NP-Za-km-z]{32,44}\b"),
}


@dataclass(frozen=True)
class Link:
    """One link: its text, host, registered domain and what is suspicious about it."""

    text: str
    host: str
    domain: str  # the registered domain, e.g. "metamask.io" for "support.metamask.io"
    shortened: bool = False
    ip: bool = False
    imitates: str | None = None  # the protected domain it looks like
    why: str = ""


@dataclass(frozen=True)
class Features:
    links: tuple[Link, ...] = ()
    addresses: tuple[tuple[str, str], ...] = ()  # (chain family, address)

    @property
    def flags(self) -> tuple[Flag, ...]:
        found: list[Flag] = []
        if self.links:
            found.append("link")
        if any(link.shortened for link in self.links):
            found.append("shortened_link")
        if any(link.imitates for link in self.links):
            found.append("lookalike_domain")
        if any(link.ip for link in self.links):
            found.append("ip_link")
        if self.addresses:
            found.append("wallet_address")
        return tuple(found)

    def reasons(self) -> list[str]:
        """One sentence per suspicious link, for reviewers and the API's `reasons`."""
        out = []
        for link in self.links:
            if link.imitates:
                out.append(f"link {link.host} imitates {link.imitates} ({link.why})")
            elif link.shortened:
                out.append(f"shortened link {link.host}: its destination is hidden")
            elif link.ip:
                out.append(f"link to a bare IP address {link.host}")
        return out

    def tags(self) -> str:
        """Words appended to the model's input, e.g. "[link lookalike of metamask.io]"."""
        parts = []
        for link in self.links:
            if link.imitates:
                parts.append(f"[link lookalike of {link.imitates}]")
            elif link.shortened:
                parts.append("[shortened link]")
            elif link.ip:
                parts.append("[ip link]")
            else:
                parts.append(f"[link {link.domain}]")
        if self.addresses:
            parts.append("[wallet address]")
        return " ".join(dict.fromkeys(parts))


@cache
def _extractor() -> object:
    import tldextract

    # No suffix_list_urls: the snapshot bundled with tldextract, never the network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def split_host(host: str) -> tuple[str, str] | None:
    """(name, registered domain) of a host — ("metamask", "metamask.io") — or None when the
    host does not end in a public suffix (so "e.g" or "file.txt" are not links)."""
    parts = _extractor()(host)  # type: ignore[operator]
    if not parts.domain or not parts.suffix:
        return None
    return parts.domain, f"{parts.domain}.{parts.suffix}"


def _distance(a: str, b: str) -> int:
    from rapidfuzz.distance import DamerauLevenshtein

    return int(DamerauLevenshtein.distance(a, b))


@cache
def _brands(protected: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(name, registered domain) of each protected domain, split once per task's list."""
    return tuple(split for brand in protected if (split := split_host(brand)) is not None)


def imitation(host: str, name: str, domain: str, protected: Sequence[str]) -> tuple[str, str]:
    """(protected domain, why) when `host` looks like one of `protected` without being it."""
    folded = fold_confusables(name).lower().replace("rn", "m").replace("vv", "w")
    for brand_name, brand_domain in _brands(tuple(protected)):
        if domain == brand_domain:
            return "", ""  # the real one (or a subdomain of it)
        if name != brand_name and folded == brand_name:
            return brand_domain, "look-alike letters"
        if name == brand_name:
            return brand_domain, f"same name under .{domain.split('.', 1)[1]}"
        if len(brand_name) >= 4:
            distance = _distance(name, brand_name)
            if distance <= (1 if len(brand_name) < 6 else 2):
                return brand_domain, f"{distance} letter(s) from {brand_name}"
            if brand_name in host.replace(domain, name):
                return brand_domain, f"contains the name {brand_name}"
    return "", ""


def extract_features(text: str, protected: Sequence[str] = ()) -> Features:
    """Links and wallet addresses in `text` (normalise it first to see through disguises)."""
    links: list[Link] = []
    for match in _URL.finditer(text):
        host = match.group(1).lower().rstrip(".")
        if re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", host):
            links.append(Link(match.group(0), host, host, ip=True))
            continue
        split = split_host(host)
        if split is None:
            continue
        name, domain = split
        imitates, why = imitation(host, name, domain, protected)
        links.append(
            Link(
                match.group(0),
                host,
                domain,
                shortened=domain in SHORTENERS or host in SHORTENERS,
                imitates=imitates or None,
                why=why,
            )
        )
    addresses: list[tuple[str, str]] = []
    seen: set[str] = set()
    for family, pattern in _ADDRESSES.items():
        for match in pattern.finditer(text):
            value = match.group(0)
            if value in seen or (family == "solana" and not _mixed(value)):
                continue
            seen.add(value)
            addresses.append((family, value))
    return Features(tuple(links), tuple(addresses))


def _mixed(value: str) -> bool:
    """A base58 run long enough for a Solana key has digits and both cases (not a long word)."""
    return (
        any(c.isdigit() for c in value)
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
    )
