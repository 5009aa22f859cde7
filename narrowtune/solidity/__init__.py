"""Solidity review support: a real static analyzer first, review comments second, a human decides.

- `solc_shim`: a `solc`-compatible command over solcjs (npm's JavaScript build of the compiler),
  so Slither can compile without a native binary or a download at run time;
- `analyzer`: run Slither on a folder, with a time limit, and normalise its findings;
- `findings`: the normalised `Finding` and which patterns are security-critical;
- `diff`: read a unified diff (the changed lines, the files it creates or changes);
- `comments`: review comments, GitHub's pull-request review shape and Markdown. A review is
  never an approval: its event is `COMMENT`, or `REQUEST_CHANGES` when a human must decide.
"""

from narrowtune.solidity.findings import SECURITY_CRITICAL, Finding, pattern_of

__all__ = ["SECURITY_CRITICAL", "Finding", "pattern_of"]
