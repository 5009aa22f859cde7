"""Text-overlap metrics of generated outputs against references, as fractions in [0, 1].

- chrF (Popović 2015, as sacrebleu computes it by default): character n-grams of order 1-6,
  whitespace removed, statistics summed over the corpus, F-beta with beta = 2 averaged over the
  n-gram orders present. sacrebleu reports the same number times 100.
- ROUGE-L: F1 of the longest common subsequence of lower-cased word tokens, per output, averaged
  (what rouge-score's `rougeL` computes, without stemming).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

CHRF_ORDER = 6
CHRF_BETA = 2.0
_WORD = re.compile(r"\w+", re.UNICODE)


def _char_ngrams(text: str, n: int) -> Counter[str]:
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


def chrf_counts(hypothesis: str, reference: str) -> list[tuple[int, int, int]]:
    """One output's chrF statistics per n-gram order: (matches, output n-grams, reference
    n-grams). Corpus chrF sums them over the outputs (`chrf_from_counts`)."""
    hyp, ref = re.sub(r"\s+", "", hypothesis), re.sub(r"\s+", "", reference)
    out = []
    for n in range(1, CHRF_ORDER + 1):
        h, r = _char_ngrams(hyp, n), _char_ngrams(ref, n)
        out.append((sum((h & r).values()), sum(h.values()), sum(r.values())))
    return out


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF in [0, 1] (see the module docstring)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} outputs but {len(references)} references")
    matches = [0] * CHRF_ORDER
    hyp_total = [0] * CHRF_ORDER
    ref_total = [0] * CHRF_ORDER
    for hyp, ref in zip(hypotheses, references):
        for n, (m, h, r) in enumerate(chrf_counts(hyp, ref)):
            matches[n] += m
            hyp_total[n] += h
            ref_total[n] += r
    beta2 = CHRF_BETA**2
    scores = []
    for m, h, r in zip(matches, hyp_total, ref_total):
        if h == 0 or r == 0:
            continue
        precision, recall = m / h, m / r
        denominator = beta2 * precision + recall
        scores.append((1 + beta2) * precision * recall / denominator if denominator else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Mean ROUGE-L F1 in [0, 1] (see the module docstring)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} outputs but {len(references)} references")
    if not hypotheses:
        return 0.0
    total = 0.0
    for hyp, ref in zip(hypotheses, references):
        h, r = _WORD.findall(hyp.lower()), _WORD.findall(ref.lower())
        if not h or not r:
            continue
        lcs = _lcs_length(h, r)
        if lcs:
            precision, recall = lcs / len(h), lcs / len(r)
            total += 2 * precision * recall / (precision + recall)
    return total / len(hypotheses)
