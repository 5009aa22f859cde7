"""The audit checks, one per file; each registers itself with `@check` (see `..registry`).

Every module here is imported by `narrowtune.data.audit.registry.registered_checks`: adding a
check is adding a file.
"""
