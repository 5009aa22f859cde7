"""The one exception type a user can cause; the CLI prints its message without a traceback."""


class NarrowtuneError(Exception):
    """An error in the user's input or environment, with a message that says what to do."""
