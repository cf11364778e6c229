"""Lists of names and defaults that the library and the command share, each
kept in one place: the core's, exported by ``_core``, wherever the core knows
them. The ``Literal`` types spell the same names for type checkers, which
cannot read them from ``_core``; tests check that they agree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict, get_args

from thresher import _core

Format = Literal["auto", "paper_listing", "text", "jsonl", "warc", "wet", "parquet", "arrow"]
Verify = Literal["exact", "signature"]
Keep = Literal["first", "longest", "newest"]
TextUnit = Literal["file", "line", "paragraph"]
Html = Literal["text", "main", "raw"]

#: ``format=`` values: ``"auto"``, then every format the core reads.
FORMATS: tuple[str, ...] = _core.FORMATS
#: ``html=`` values.
HTML_MODES: tuple[str, ...] = _core.HTML_MODES
#: Content types of web-archive records read as documents by default.
DEFAULT_CONTENT_TYPES: tuple[str, ...] = _core.DEFAULT_CONTENT_TYPES
#: ``verify=`` values.
VERIFY_VALUES: tuple[str, ...] = _core.VERIFY
#: ``keep=`` values (a Python-side choice: the core takes priorities).
KEEP_VALUES: tuple[str, ...] = get_args(Keep)
#: Seed of the MinHash permutations used when none is given.
DEFAULT_SEED: int = _core.DEFAULT_SEED
#: Default names of each field option (``text_field``, ``title_field``,
#: ``id_field``, ``url_field``, ``date_field``), tried in order.
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = dict(_core.DEFAULT_FIELDS)

#: A field option: one name, names tried in order, or ``None`` (off).
FieldNames = str | Sequence[str] | None


class FieldOptions(TypedDict):
    """Every field option as the command passes it on (``**fields`` to
    :func:`thresher.ingest`, :func:`thresher.scan` and ``DedupOptions``):
    names tried in order, ``[]`` for a field turned off."""

    text_field: list[str]
    title_field: list[str]
    id_field: list[str]
    url_field: list[str]
    date_field: list[str]


#: The field options' names, in order (each a ``--...-field`` flag).
FIELD_OPTIONS: tuple[str, ...] = tuple(FieldOptions.__annotations__)


def field_names(option: str, value: FieldNames) -> list[str]:
    """The names of field option ``option`` as the core takes them: a list,
    empty for ``None`` (the field off; the core refuses that for
    ``text_field``). A string is one name."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(name, str) for name in value):
        return list(value)
    raise TypeError(
        f"{option} must be a field name, a sequence of names or None, "
        f"got {type(value).__name__}: {value!r}"[:200]
    )


def dedup_options(
    threshold: float, ngram: int, num_perm: int, seed: int, verify: str
) -> dict[str, object]:
    """The dedup options as the core takes them (``_core.dedup``,
    ``_core.similar_pairs``, ``_core.DedupEngine``)."""
    return {
        "threshold": float(threshold),
        "ngram": ngram,
        "num_perm": num_perm,
        "seed": seed,
        "verify": verify,
    }
