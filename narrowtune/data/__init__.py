"""Loading, splitting and fingerprinting examples."""

from narrowtune.data.load import DataError, Example, load_examples
from narrowtune.data.split import Splits, fingerprint, load_splits, make_splits

__all__ = [
    "DataError",
    "Example",
    "Splits",
    "fingerprint",
    "load_examples",
    "load_splits",
    "make_splits",
]
