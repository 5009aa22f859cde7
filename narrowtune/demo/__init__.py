"""The bundled demo: the wallet-support ticket router (`narrowtune demo`).

`task.yaml` and `tickets.csv` ship inside the package, so the demo runs from an installed wheel
as well as from a checkout. The data is synthetic, written for this project by
`examples/wallet_support/make_tickets.py` (see `examples/wallet_support/README.md`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

FILES = ("task.yaml", "tickets.csv")


def demo_file(name: str) -> Path:
    """The path of one of the demo's files inside the installed package."""
    return Path(str(resources.files(__name__) / name))
