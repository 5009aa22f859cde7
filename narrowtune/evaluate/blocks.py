"""The content of a report section, as data: tables, lists and pre-rendered HTML.

An evaluation (see `narrowtune.evaluate.evaluation`) carries its kind's extra report sections
as these blocks; `narrowtune.evaluate.report` alone turns them into (escaped) HTML. Cells are
plain values: text, numbers, or a `Cell` when one needs a style (preformatted text, a list, a
muted note under the value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CellStyle = Literal["text", "num", "code", "pre", "list"]


@dataclass(frozen=True)
class Cell:
    """One table cell: `value` shown in `style`; `note` is a small line under it.

    - text: the value as text; num: right-aligned; code: monospace;
    - pre: preformatted text (line breaks kept); list: `items` as a bulleted list.
    """

    value: str = ""
    style: CellStyle = "text"
    note: str = ""
    items: tuple[str, ...] = ()


CellValue = str | int | float | None | Cell


@dataclass(frozen=True)
class Table:
    """A table with a lead paragraph; `numeric` marks the columns drawn right-aligned."""

    headers: tuple[str, ...]
    rows: tuple[tuple[CellValue, ...], ...]
    lead: str = ""
    numeric: frozenset[int] = field(default_factory=frozenset)
    empty: str = ""  # shown instead of the table when there are no rows


@dataclass(frozen=True)
class Notes:
    """A bulleted list of sentences."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Html:
    """HTML rendered (and escaped) already: a section read back from a stored metrics.json."""

    html: str


Block = Table | Notes | Html
