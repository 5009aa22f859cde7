"""Moderation: what a classify task with a `moderation:` section adds to plain classification.

- `normalize`: undo disguises (look-alike letters, zero-width characters, leetspeak, spaced
  letters, defanged links) before the model reads a text;
- `features`: links (look-alikes of protected domains, shorteners, IP links) and wallet
  addresses, as model input and as rules;
- `moderator`: per-label block/review thresholds chosen on validation for a false-positive
  budget, and the allow / block / review decision;
- `perturb`: a seeded adversary that disguises texts, for the robustness comparison in `eval`;
- `spec`: the task-file section.

Reviewers and the store always keep the original text: only the model reads the normalised one.
"""
