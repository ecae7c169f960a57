"""The one exception type for bad user input.

Every check of user-supplied parameters raises :class:`DLTheoryError` with a one-line message that
names the parameter and the accepted values. The CLI turns it into exit code 2 without a traceback.
"""

from __future__ import annotations

__all__ = ["DLTheoryError", "require"]


class DLTheoryError(ValueError):
    """Invalid input to a dltheory function, experiment config or CLI command."""


def require(condition: bool, message: str) -> None:
    """Raise :class:`DLTheoryError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise DLTheoryError(message)
