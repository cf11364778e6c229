"""thresher's exceptions.

Every exception thresher raises on purpose is a :class:`ThresherError`:

* :class:`InvalidOptionError` (also a ``ValueError``): an option is out of
  range, unknown or inconsistent;
* :class:`UsageError`: calls in the wrong order, such as a pass of
  :class:`thresher.DedupEngine` before the pass it needs;
* :class:`InputError`: an input could not be read and the call stopped; it
  names the ``source``, ``member`` and ``offset``. Most input problems are not
  raised but reported as error rows (``Ingest.errors``, ``Scan.errors``);
* :class:`ThresherError` itself: anything else, such as an internal failure.

Ctrl-C raises ``KeyboardInterrupt`` as usual.
"""

from __future__ import annotations

from thresher._core import ThresherError

__all__ = ["InputError", "InvalidOptionError", "ThresherError", "UsageError"]


class InvalidOptionError(ThresherError, ValueError):
    """An option is out of range or inconsistent (also a ``ValueError``)."""


class UsageError(ThresherError):
    """Calls made in the wrong order, such as :meth:`thresher.DedupEngine.verify`
    before :meth:`~thresher.DedupEngine.find_candidates`."""


class InputError(ThresherError):
    """An input could not be read, and the call stopped.

    Attributes:
        source: the input file (or stream).
        member: the archive member the problem is in, or ``None``.
        offset: byte offset of the problem in the member (or the file).
        reason: what is wrong.
    """

    def __init__(
        self, reason: str, *, source: str, member: str | None = None, offset: int = 0
    ) -> None:
        self.reason = reason
        self.source = source
        self.member = member
        self.offset = offset
        where = source if member is None else f"{source}, member {member}"
        super().__init__(f"{where}, at byte {offset}: {reason}")

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments: pickle (multiprocessing) needs them spelt out.
        return (_input_error, (self.reason, self.source, self.member, self.offset))


def _input_error(reason: str, source: str, member: str | None, offset: int) -> InputError:
    return InputError(reason, source=source, member=member, offset=offset)
