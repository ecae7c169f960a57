"""The one exception type for bad user input, and the one warning type for results of limited validity.

Every check of user-supplied parameters raises :class:`DLTheoryError` with a one-line message that
names the parameter and the accepted values. The CLI turns it into exit code 2 without a traceback.
A computation that returns numbers outside the regime where its theory applies (e.g. a 1/n
expansion at depth/width beyond its threshold) warns with :class:`DLTheoryWarning`.
"""

from __future__ import annotations

__all__ = ["DLTheoryError", "DLTheoryWarning", "require"]


class DLTheoryError(ValueError):
    """Invalid input to a dltheory function, experiment config or CLI command."""


class DLTheoryWarning(UserWarning):
    """Numbers were returned, but outside the regime where the theory that produced them holds.

    The message names the quantity, the threshold and the value that crossed it. Turn these into
    errors with ``warnings.simplefilter("error", DLTheoryWarning)``.
    """


def require(condition: bool, message: str) -> None:
    """Raise :class:`DLTheoryError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise DLTheoryError(message)
