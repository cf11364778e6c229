"""Input paths as users give them: files, directories, globs; checked before
any work starts."""

from __future__ import annotations

import errno
import glob
import os
import re
from collections.abc import Iterable

from thresher.errors import InvalidOptionError

PathLike = str | os.PathLike[str]

#: ``s3://bucket/x``, ``https://host/x``, ``file://...``: a scheme of two or
#: more letters (so that ``C:\\x`` is not one) followed by ``://``.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_GLOB_CHARS = frozenset("*?[")


class InputNotFoundError(FileNotFoundError):
    """An input path that does not exist, or a glob that matches nothing."""


def expand_paths(paths: PathLike | Iterable[PathLike]) -> list[str]:
    """The input paths to read, in the order given.

    A path that exists is kept as it is (even one with ``*`` in its name). A
    path with ``*``, ``?`` or ``[`` that does not exist is a glob and becomes
    the paths it matches, sorted; ``**`` matches any number of directories,
    as Polars expands it. Raises :class:`InputNotFoundError` (a
    ``FileNotFoundError``) for a path that does not exist or a glob that
    matches nothing, and :class:`~thresher.InvalidOptionError` for a URL
    (``s3://``, ``https://``): remote input is not supported yet.
    """
    given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    expanded: list[str] = []
    for path in given:
        name = os.fspath(path)
        if not isinstance(name, str):
            raise TypeError(f"an input path must be str or os.PathLike[str], not {type(path)!r}")
        if _URL.match(name):
            raise InvalidOptionError(
                f"{name}: remote input is not supported yet; download it and give the local path"
            )
        if os.path.lexists(name):
            expanded.append(name)
        elif _GLOB_CHARS & set(name):
            matches = sorted(glob.glob(name, recursive=True))
            if not matches:
                raise InputNotFoundError(errno.ENOENT, "no input matches the pattern", name)
            expanded.extend(matches)
        else:
            raise InputNotFoundError(errno.ENOENT, "input not found", name)
    return expanded
