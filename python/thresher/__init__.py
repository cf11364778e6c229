"""thresher: fast ingest and exact/near-duplicate detection for scraped text dumps.

The heavy lifting happens in Rust (``thresher._core``); this module converts
data to Arrow streams and back and holds the documented defaults.

:func:`dedup`, :func:`similar_pairs`, :func:`minhash`, :func:`keep_priority`
and :class:`DedupEngine` take texts of every kind (see :mod:`thresher.frames`):
Polars ``DataFrame``, ``LazyFrame`` (streamed in batches, never collected
whole) and ``Series``; pandas ``DataFrame`` and ``Series``; pyarrow ``Table``,
``RecordBatch``, ``RecordBatchReader``, ``ChunkedArray`` and ``Array``; any
object with ``__arrow_c_stream__``. Anything else raises ``TypeError``. pandas
and pyarrow are optional. What comes back:

==================  ================  =================  =============
input               ``dedup``         ``similar_pairs``  ``minhash``
==================  ================  =================  =============
Polars (eager)      ``pl.DataFrame``  ``pl.DataFrame``   ``pl.Series``
Polars LazyFrame    ``pl.LazyFrame``  ``pl.DataFrame``   ``pl.Series``
pandas              ``pd.DataFrame``  ``pd.DataFrame``   ``pl.Series``
pyarrow             ``pa.Table``      ``pl.DataFrame``   ``pl.Series``
other Arrow stream  ``pl.DataFrame``  ``pl.DataFrame``   ``pl.Series``
==================  ================  =================  =============

:class:`DedupEngine` returns Polars frames for every input. The values are the
same whatever the kind and the batch size.

>>> import polars as pl, thresher
>>> df = pl.DataFrame({"text": ["a b c d e f", "a b c d e f", "x y z"]})
>>> thresher.dedup(df)["is_duplicate"].to_list()
[False, True, False]
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from thresher import _core, frames, lazy
from thresher._names import (
    DEFAULT_FIELDS,
    DEFAULT_SEED,
    FieldNames,
    Format,
    Html,
    Keep,
    TextUnit,
    Verify,
    dedup_options,
    field_names,
)
from thresher.engine import DedupEngine
from thresher.errors import InputError, InvalidOptionError, ThresherError, UsageError
from thresher.index import Index
from thresher.inputs import InputNotFoundError, expand_paths
from thresher.keep import KeepWarning, check_keep, frame_priority, priority_expr, warn_undated
from thresher.progress import RowProgress, library_reporter
from thresher.streams import priority_stream, text_stream

__all__ = [
    "DEFAULT_FIELDS",
    "DEFAULT_SEED",
    "DedupEngine",
    "Index",
    "Ingest",
    "IngestWarning",
    "InputError",
    "InputNotFoundError",
    "InvalidOptionError",
    "KeepWarning",
    "Limits",
    "Scan",
    "ThresherError",
    "UsageError",
    "__version__",
    "banding",
    "dedup",
    "ingest",
    "keep_priority",
    "minhash",
    "read_dumps",
    "scan",
    "similar_pairs",
]

__version__: str = _core.__version__

PathLike = str | os.PathLike[str]

_DEFAULT_LIMITS: dict[str, int] = _core.default_limits()

#: Records per batch of the scan behind ``ingest(progress=True)``.
_INGEST_BATCH = 65_536


class IngestWarning(UserWarning):
    """Some inputs could not be read completely; see ``Ingest.errors``."""


@dataclass(frozen=True)
class Limits:
    """Safety limits of ingest. Hitting one gives an error row (``kind ==
    "limit"``) for the member or record concerned, never a crash or a hang.

    Attributes:
        max_member_bytes: most decompressed bytes read from one archive member
            or compressed stream.
        max_input_bytes: most decompressed bytes read from one input file, all
            members and nesting levels together.
        max_ratio: largest expansion of one compressed stream, and of one
            input file over all its nesting levels together (decompressed
            bytes per compressed byte), checked after their first 64 MiB;
            catches decompression bombs, nested ones included, early.
        max_record_bytes: longest record (a line, a paragraph, a JSON line, a
            WARC record, a whole-file document).
        max_depth: deepest nesting of containers (``.gz`` in ``.tar`` in
            ``.zip`` is 3).
        max_buffered_bytes: largest member held in memory because its format
            needs random access (a zip, Parquet or Arrow file inside another
            archive or stream), and largest Parquet row group.
        max_records: most records :func:`ingest` keeps of one input file, as
            it holds them all in memory; the records after them are read and
            counted in one error row, not kept. :func:`scan` does not apply
            it: use it for inputs with more records (a large file read with
            ``text_unit="line"``).
    """

    max_member_bytes: int = _DEFAULT_LIMITS["max_member_bytes"]
    max_input_bytes: int = _DEFAULT_LIMITS["max_input_bytes"]
    max_ratio: int = _DEFAULT_LIMITS["max_ratio"]
    max_record_bytes: int = _DEFAULT_LIMITS["max_record_bytes"]
    max_depth: int = _DEFAULT_LIMITS["max_depth"]
    max_buffered_bytes: int = _DEFAULT_LIMITS["max_buffered_bytes"]
    max_records: int = _DEFAULT_LIMITS["max_records"]


@dataclass(frozen=True)
class Ingest:
    """What :func:`ingest` read.

    Attributes:
        records: one row per document: ``doc_id``, ``source``, ``member``,
            ``offset`` (byte offset of the record in the member, the row
            number for Parquet and Arrow), ``part`` (with ``text_unit``
            ``"line"`` or ``"paragraph"``, the unit's index in its source
            record, or in the member for plain text; null with ``"file"``),
            ``format``, ``title``, ``text``, ``id``, ``url``, ``date``
            (normalised to RFC 3339 in UTC, see :func:`ingest`'s
            ``date_field``), ``meta`` (other fields as a JSON object) and
            ``invalid_utf8`` (the text held invalid UTF-8, replaced with
            U+FFFD).
        errors: one row per problem: ``source``, ``member``, ``offset``,
            ``kind`` and ``reason``. Corrupt or truncated archives, limits hit,
            binary or empty members, JSON lines that do not parse, missing
            text fields, lines that could not be paired, unreadable paths,
            invalid UTF-8 and dates that do not parse (``"field"``; for both
            the record is kept) all appear here. A file or archive member
            that gives no record has one row of kind ``"empty"`` at offset 0
            saying why (its error rows by kind with the first reason of each,
            or the records skipped by type).
        skipped: records of web archives that are not documents, counted,
            not kept and not errors: by content type (``"image/png"``,
            ``"text/css"``, ... for types outside ``content_types``), by WARC
            record type (``"warc/revisit"``, ``"warc/request"``,
            ``"warc/warcinfo"``, ``"warc/metadata"``), and ``"empty"`` for
            records with no text (an empty payload, a page with no visible
            text).
    """

    records: pl.DataFrame
    errors: pl.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)


def _ingest_options(
    format: str = "auto",
    text_unit: str = "file",
    limits: Limits | None = None,
    follow_symlinks: bool = False,
    html: Html | None = None,
    content_types: Iterable[str] | None = None,
    **fields: FieldNames,
) -> dict[str, object]:
    """The core's options of :func:`ingest`'s keyword arguments (checked
    by a call of :func:`ingest` first), for readers that call the core
    themselves (:mod:`thresher.ray`)."""
    unknown = fields.keys() - DEFAULT_FIELDS.keys()
    if unknown:
        raise TypeError(f"unknown ingest options: {sorted(unknown)}")
    named = {name: fields.get(name, default) for name, default in DEFAULT_FIELDS.items()}
    return _options(format, named, text_unit, limits, follow_symlinks, html, content_types)


def _options(
    format: str,
    fields: dict[str, FieldNames],
    text_unit: str,
    limits: Limits | None,
    follow_symlinks: bool,
    html: Html | None = None,
    content_types: Iterable[str] | None = None,
) -> dict[str, object]:
    if isinstance(content_types, str):
        content_types = [t for t in content_types.split(",") if t.strip()]
    return {
        "format": format,
        **{option: field_names(option, value) for option, value in fields.items()},
        "text_unit": text_unit,
        "limits": asdict(limits if limits is not None else Limits()),
        "follow_symlinks": bool(follow_symlinks),
        "html": html,
        "content_types": None if content_types is None else list(content_types),
    }


def ingest(
    paths: PathLike | Iterable[PathLike],
    format: Format = "auto",
    *,
    text_field: FieldNames = DEFAULT_FIELDS["text_field"],
    title_field: FieldNames = DEFAULT_FIELDS["title_field"],
    id_field: FieldNames = DEFAULT_FIELDS["id_field"],
    url_field: FieldNames = DEFAULT_FIELDS["url_field"],
    date_field: FieldNames = DEFAULT_FIELDS["date_field"],
    text_unit: TextUnit = "file",
    limits: Limits | None = None,
    follow_symlinks: bool = False,
    html: Html | None = None,
    content_types: Iterable[str] | None = None,
    progress: bool = False,
) -> Ingest:
    """Read dumps from files, directories and archives.

    Directories are walked recursively in sorted order, skipping hidden
    entries (names starting with ``.``). Compressed streams (gzip, zstd,
    bzip2, xz), tar and zip archives are recognised by their content, nested
    to any depth, and streamed member by member, never extracted to disk.

    A walk does not leave the directories it was given: a symbolic link
    inside them that leads elsewhere is not followed but reported (an error
    row of kind ``"unsupported"`` naming its target), unless
    ``follow_symlinks=True``. Links given as ``paths`` are followed. Only
    regular files are read: FIFOs, devices, sockets and files of ``/proc``
    or ``/sys`` are error rows (``"unsupported"``), never opened for
    reading. A file named twice (``x`` and ``./x``, through a link, a hard
    link) is read once, under the smallest of its paths; the repeat is not
    reported. ``source`` is the path as given; in a path that is not valid
    UTF-8, each bad byte is written ``\\xNN`` and each backslash ``\\\\``, so
    that two paths never share a ``source``.

    Args:
        paths: a file or directory, or several; a path with ``*``, ``?`` or
            ``[`` that does not exist is a glob (``corpus/*.zip``,
            ``**/*.jsonl.zst``) and stands for the paths it matches, sorted.
            A path that does not exist, or a glob that matches nothing,
            raises :class:`InputNotFoundError` (a ``FileNotFoundError``)
            before anything is read; a URL (``s3://``, ``https://``) raises
            :class:`InvalidOptionError`, as remote input is not supported
            yet. A file that vanishes or turns unreadable during the run is
            an error row, not an exception.
        format: ``"auto"`` detects each member's format from its content: a
            paper-listing page dump, JSON Lines, WARC/WET, Parquet, Arrow IPC,
            else plain text. Any of ``"paper_listing"``, ``"text"``,
            ``"jsonl"``, ``"warc"``, ``"wet"``, ``"parquet"``, ``"arrow"``
            forces one for every member (containers are still unwrapped).
        text_field: the JSONL fields, or Parquet/Arrow columns, that may
            hold the text: one name or a list of names tried in order. In each
            record (each row of a Parquet or Arrow file) the first name
            present with a non-null value wins, so shards with ``text`` and
            shards with ``content`` are read in one call; its value leaves
            ``meta``, while the other names stay there like any other field.
            Default ``["text", "content", "raw_content"]``. A record without
            any is an error row (``"missing_field"``) naming the names tried
            and the fields found; a Parquet/Arrow column that is not of
            strings is not a text column.
        title_field: the fields or columns that may hold the title, chosen in
            the same way (default ``["title"]``; ``None`` or ``[]``: none).
        id_field: the fields or columns that may hold the record's own id
            (default ``["id"]``; ``None``: none).
        url_field: the fields or columns that may hold the record's URL
            (default ``["url"]``; ``None``: none). WARC records take
            ``WARC-Target-URI``.
        date_field: the fields or columns that may hold the record's date
            (default ``["date", "timestamp", "crawl_date", "created_at"]``;
            ``None``: none). WARC records take ``WARC-Date``. The ``date``
            column holds it normalised: RFC 3339 in UTC,
            ``YYYY-MM-DDTHH:MM:SSZ``, with ``.ffffff`` (six digits) only when
            there is a fraction of a second; a value without a zone is taken
            as UTC, a date alone is midnight UTC. Accepted: ISO 8601 / RFC
            3339 strings (``T`` or a space, with or without fraction and
            offset, a date alone), WARC-Date, RFC 2822 (``Tue, 1 Jul 2003
            10:52:37 +0200``), numbers and numeric strings as Unix epochs, and
            Arrow date and timestamp columns (any unit and time zone). An
            epoch number is in seconds, or in milliseconds when its magnitude
            is at least 10**11 (a guess: milliseconds before March 1973 are
            read as seconds; give such dates as strings or timestamps).
            Negative epochs are dates before 1970. A value that is not a
            date (unparseable, a year outside 1 to 9999 such as 99999, NaN,
            a boolean, an object) leaves ``date`` null and stays in ``meta``,
            with an error row of kind ``"field"``; the record is kept.
        text_unit: how texts are cut into documents: the whole ``"file"``
            (or record), each non-blank ``"line"``, or each
            blank-line-separated ``"paragraph"``, for every format. Lines
            and paragraphs are trimmed; HTML is cut after its text is
            extracted (one line per block). A unit keeps its source record's
            fields and ``offset`` (in plain text, ``offset`` is the unit's
            own byte offset), and ``part`` numbers the units of a record
            from 0; a record with no non-blank line is kept whole.
        limits: safety limits (:class:`Limits`); defaults when ``None``.
        follow_symlinks: follow symbolic links inside the directories
            wherever they lead (off: only links into the input directories).
        html: what is kept of HTML. By default (``None``) WARC ``response``
            and ``resource`` records of an HTML or XHTML content type keep
            their visible text, and other members and fields are left as they
            are. ``"text"`` keeps the visible text (no scripts, styles,
            comments or markup; block elements become line breaks; entities
            decoded), ``"main"`` only the main content (navigation, headers,
            footers and sidebars removed too), and both then also apply to
            text members and text fields that look like HTML. ``"raw"`` keeps
            HTML as it is everywhere. The page's ``<title>`` fills ``title``
            when the record has none.
        content_types: the content types of WARC records read as documents
            (``"text/html"``, ``"text/*"``, ``"*/*"``; a list, or one string
            separated by commas). Default: HTML, XHTML and plain text. Records
            of other types (images, scripts, styles, PDFs), ``revisit`` and
            other non-document records, and empty payloads are skipped and
            counted in ``skipped``, not reported as errors.
        progress: draw a progress bar on stderr (in a notebook, in the
            cell's output) while reading: the bytes of the inputs read, which
            advance inside one big file or archive, with a percentage, the
            time left, and the records so far; the bar of the ``thresher``
            command. The result is the same either way.

    Returns:
        An :class:`Ingest` with ``records`` and ``errors`` frames. ``doc_id``
        is stable: files in sorted path order, then archive members in order,
        then records in member order, whatever the thread count.
    """
    options = _options(
        format,
        {
            "text_field": text_field,
            "title_field": title_field,
            "id_field": id_field,
            "url_field": url_field,
            "date_field": date_field,
        },
        text_unit,
        limits,
        follow_symlinks,
        html,
        content_types,
    )
    expanded = expand_paths(paths)
    if progress:
        return _ingest_with_progress(expanded, options)
    records, errors, skipped = _core.ingest(expanded, options)
    return Ingest(records=pl.DataFrame(records), errors=pl.DataFrame(errors), skipped=dict(skipped))


def _ingest_with_progress(paths: list[str], options: dict[str, Any]) -> Ingest:
    """:func:`ingest` through a :class:`Scan` whose counters a bar follows;
    the scan gives the same records and errors in the same order."""
    reporter = library_reporter(True)
    try:
        with (
            reporter.phase("ingest", "ingest") as phase,
            Scan(_core.Scan(paths, options, _INGEST_BATCH, 0)) as stream,
        ):
            phase.watch(stream)
            batches = [frame for frame in stream if frame.height]
            errors, skipped = stream.errors, stream.skipped
    finally:
        reporter.close()
    if batches:
        records = pl.concat(batches, rechunk=True)
    else:
        records = pl.DataFrame(_core.ingest([], options)[0])
    return Ingest(records=records, errors=errors, skipped=skipped)


#: A batch of :class:`_core.Scan`: its records and error rows.
_Batch = tuple[_core.ArrowTable, _core.ArrowTable]


class Scan:
    """Batches of records from :func:`scan`; iterate over it for Polars frames.

    ``errors`` holds the error rows seen so far, ``skipped`` the records that
    are not documents (see :class:`Ingest`), and ``progress`` the counters
    (``files_total``, ``files_done``, ``bytes_done``, ``bytes_total``,
    ``bytes_read``, ``records``, ``errors``, ``skipped``). Closing the scan
    (or leaving a ``with`` block) stops its worker threads.

    With ``read_ahead`` (the default), the next batch is assembled on a
    thread of the scan's own while the caller works on the one it was
    handed, so the readers do not wait for the caller, nor the caller for
    them. It holds one batch more in memory.
    """

    def __init__(self, inner: _core.Scan, read_ahead: bool = False) -> None:
        self._inner = inner
        self._errors: list[pl.DataFrame] = []
        self._read_ahead = read_ahead
        self._reader: ThreadPoolExecutor | None = None
        self._ahead: Future[_Batch | None] | None = None

    def __iter__(self) -> Iterator[pl.DataFrame]:
        return self

    def __next__(self) -> pl.DataFrame:
        batch = self._next_batch()
        if batch is None:
            self._stop_reading()
            raise StopIteration
        if self._read_ahead:
            if self._reader is None:
                self._reader = ThreadPoolExecutor(1, thread_name_prefix="thresher-scan")
            self._ahead = self._reader.submit(self._inner.next_batch)
        records, errors = batch
        errors_frame = pl.DataFrame(errors)
        if errors_frame.height:
            self._errors.append(errors_frame)
        return pl.DataFrame(records)

    def _next_batch(self) -> _Batch | None:
        """The batch read ahead, else the next one read now."""
        ahead = self._ahead
        if ahead is None:
            return self._inner.next_batch()
        try:
            batch = ahead.result()
        except BaseException:
            # The read failed: its error is handed out once, as without
            # read-ahead. An interrupted wait (Ctrl-C) keeps the batch for
            # the next call, so that no record is lost.
            if ahead.done() and ahead.exception() is not None:
                self._ahead = None
            raise
        self._ahead = None
        return batch

    def _stop_reading(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.shutdown(wait=True)

    @property
    def errors(self) -> pl.DataFrame:
        """Error rows seen so far (``source``, ``member``, ``offset``, ``kind``, ``reason``)."""
        if not self._errors:
            return pl.DataFrame(_core.empty_errors())
        return pl.concat(self._errors)

    @property
    def skipped(self) -> dict[str, int]:
        """Records skipped so far, by content type or WARC record type (see
        :class:`Ingest`); complete once the scan has ended."""
        return dict(self._inner.skipped())

    @property
    def progress(self) -> dict[str, int]:
        """Live counters (kept once the scan has ended): ``files_total``,
        ``files_done``; ``bytes_done`` (the sizes of the files whose records
        have all been handed out); ``bytes_total`` (the sizes of all input
        files, as stored) and ``bytes_read`` (the bytes of them read so far,
        compressed bytes for compressed files and archives, advancing inside
        each file and ending at ``bytes_total``); ``records``, ``errors`` and
        ``skipped``."""
        return self._inner.progress()

    def close(self) -> None:
        """Stops reading; the worker threads end (after the batch being read
        ahead, if any)."""
        self._inner.close()
        self._ahead = None
        self._stop_reading()

    def __enter__(self) -> Scan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scan(
    paths: PathLike | Iterable[PathLike],
    batch_size: int = 65_536,
    *,
    format: Format = "auto",
    text_field: FieldNames = DEFAULT_FIELDS["text_field"],
    title_field: FieldNames = DEFAULT_FIELDS["title_field"],
    id_field: FieldNames = DEFAULT_FIELDS["id_field"],
    url_field: FieldNames = DEFAULT_FIELDS["url_field"],
    date_field: FieldNames = DEFAULT_FIELDS["date_field"],
    text_unit: TextUnit = "file",
    limits: Limits | None = None,
    threads: int | None = None,
    follow_symlinks: bool = False,
    html: Html | None = None,
    content_types: Iterable[str] | None = None,
    read_ahead: bool = True,
) -> Scan:
    """Stream the records of :func:`ingest` in frames of ``batch_size`` rows.

    Files are read in parallel (``threads``, default ``RAYON_NUM_THREADS`` or
    the CPU count) but come out in ``doc_id`` order, so the frames are the
    same whatever the thread count; only a few files are read ahead, so
    memory stays bounded for corpora larger than memory. The options are
    those of :func:`ingest`, with the same symlink policy
    (``follow_symlinks``).

    With ``read_ahead`` (the default) the next frame is assembled while the
    caller works on this one (one frame more in memory); ``False`` reads a
    frame only when asked. The frames are the same either way.

    >>> for frame in thresher.scan("dumps/", batch_size=10_000):  # doctest: +SKIP
    ...     process(frame)
    """
    if batch_size < 1:
        raise InvalidOptionError("batch_size must be at least 1")
    if threads is not None and threads < 1:
        raise InvalidOptionError("threads must be at least 1")
    options = _options(
        format,
        {
            "text_field": text_field,
            "title_field": title_field,
            "id_field": id_field,
            "url_field": url_field,
            "date_field": date_field,
        },
        text_unit,
        limits,
        follow_symlinks,
        html,
        content_types,
    )
    inner = _core.Scan(expand_paths(paths), options, batch_size, threads or 0)
    return Scan(inner, read_ahead)


def read_dumps(paths: PathLike | Iterable[PathLike], format: Format = "auto") -> pl.DataFrame:
    """The records of :func:`ingest`; warns with :class:`IngestWarning` on errors."""
    result = ingest(paths, format=format)
    if result.errors.height:
        first = result.errors.row(0, named=True)
        warnings.warn(
            f"{result.errors.height} input problem(s), first: {first['source']} "
            f"at byte {first['offset']}: {first['reason']}; use thresher.ingest() for all",
            IngestWarning,
            stacklevel=2,
        )
    return result.records


def keep_priority(
    frame: Any, keep: Keep, column: str = "text", date_column: str = "date"
) -> pl.Series | None:
    """Priorities (higher wins) that make each cluster's representative the
    row :func:`dedup`'s ``keep`` asks for: ``None`` for ``"first"`` (lowest
    row), text length in characters for ``"longest"``, and the rank of the
    ``date_column`` value (ISO dates or datetimes; missing dates rank lowest)
    for ``"newest"``. ``frame`` is any input :func:`dedup` takes; the result is
    a Polars Series (of a ``LazyFrame``, computed by Polars' streaming engine
    from the one column needed)."""
    source = frames.read(frame, "keep_priority", column, [date_column])
    if isinstance(source, pl.LazyFrame):
        schema = lazy.text_schema(source, column)
        check_keep(keep, schema.names(), date_column)
        expr = priority_expr(keep, column, date_column, schema.get(date_column))
        if expr is None:
            return None
        return source.select(expr).collect(engine="streaming").to_series()
    return frame_priority(source.frame, keep, column, date_column)


@contextlib.contextmanager
def _rows_progress(enabled: bool, total: int | None) -> Iterator[RowProgress]:
    """The bar of a library call's passes over rows (silent unless ``enabled``)."""
    reporter = library_reporter(enabled)
    try:
        yield RowProgress(reporter, total)
    finally:
        reporter.close()


def _check_free(columns: list[str]) -> None:
    # Before the run, not after it: a clash would otherwise cost a whole run.
    taken = [c for c in _core.dedup_columns() if c in columns]
    if taken:
        raise InvalidOptionError(f"frame already has result column(s) {taken}")


def dedup(
    frame: Any,
    column: str = "text",
    *,
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    seed: int = DEFAULT_SEED,
    verify: Verify = "exact",
    keep: Keep = "first",
    date_column: str = "date",
    batch_size: int = lazy.BATCH_SIZE,
    progress: bool = False,
) -> Any:
    """Find exact and near duplicates among the rows of ``frame``.

    Texts are normalised (NFKC, lowercase); words are maximal runs of Unicode
    letters and digits, except in scripts written without spaces (Han, kana,
    Thai, Lao, Khmer, Myanmar, Tibetan, ...), where each letter (with its
    combining marks) is a word of its own; shingles are runs of ``ngram``
    words. Rows with the same normalised text (whitespace collapsed, and
    dropped next to those scripts' letters, so that line breaks inside
    Chinese or Japanese text change nothing) are exact duplicates. Other
    rows are compared by MinHash LSH, with bands chosen so that a pair exactly
    at ``threshold`` becomes a candidate with probability >= 0.99, and every
    candidate is verified: by the exact Jaccard similarity of the shingle sets
    (``verify="exact"``) or by the signature estimate (``"signature"``).
    Verified pairs are joined into clusters. The row each cluster keeps (its
    representative) is chosen by ``keep``: ``"first"`` (lowest row),
    ``"longest"`` (longest text) or ``"newest"`` (latest ``date_column``
    value); ties go to the lowest row. Rows with empty text are never
    duplicates. Under ``"newest"``, clusters none of whose rows has a date
    keep their first row, with a :class:`KeepWarning` saying how many.

    Args:
        frame: the texts: a frame-like input (Polars ``DataFrame`` or
            ``LazyFrame``, pandas ``DataFrame``, pyarrow ``Table``,
            ``RecordBatch`` or ``RecordBatchReader``, an Arrow C stream of
            structs), whose ``column`` holds them, or a series-like one
            (Polars or pandas ``Series``, pyarrow ``ChunkedArray`` or
            ``Array``, another Arrow C stream), which is them. Anything else
            raises :class:`TypeError`. A ``LazyFrame`` is never collected
            whole: it is run in batches of ``batch_size`` rows, once per pass
            that needs the texts (up to three), through
            :class:`DedupEngine`; see :mod:`thresher.lazy`.
        progress: draw a progress bar on stderr (in a notebook, in the
            cell's output) for each pass over the texts (``sketch``, then
            ``verify`` and ``score`` when needed): rows done out of the
            total, a percentage and the time left, as the ``thresher``
            command shows them. The frame is then run through
            :class:`DedupEngine` in batches of ``batch_size`` rows, as a
            ``LazyFrame`` is; the result is the same.

    Returns:
        The rows of ``frame`` in order, plus ``exact_key`` (xxh3-128 hex of
        the normalised text), ``cluster_id`` (row index of the cluster's
        representative), ``cluster_size``, ``is_duplicate``, ``duplicate_of``
        (null unless a duplicate) and ``similarity`` (to the representative;
        1.0 for representatives and exact duplicates); a series-like input
        is the first column, named after it (or ``column``). The kind follows
        the input: a Polars ``DataFrame`` for Polars and other Arrow C
        streams; a ``LazyFrame`` for a ``LazyFrame`` (its plan beside the
        computed columns, so that ``sink_parquet`` writes it without holding
        the texts); a pandas ``DataFrame`` (same index; ``duplicate_of`` as
        nullable integers) for pandas; a pyarrow ``Table`` for pyarrow.
        The result columns are the same for every kind and batch size.
    """
    options = dedup_options(threshold, ngram, num_perm, seed, verify)
    lazy.check_batch_size(batch_size)
    source = frames.read(frame, "dedup", column, [date_column] if keep == "newest" else [])
    if isinstance(source, pl.LazyFrame):
        _check_free(source.collect_schema().names())
        engine = DedupEngine(
            threshold=threshold, ngram=ngram, num_perm=num_perm, seed=seed, verify=verify
        )
        with _rows_progress(progress, None) as rows:
            columns, priority = lazy.dedup(
                engine, source, column, keep, date_column, batch_size, rows
            )
        if keep == "newest" and priority is not None:
            warn_undated(columns, priority, stacklevel=2)
        return pl.concat([source, columns.lazy()], how="horizontal")
    _check_free(source.columns)
    if progress:
        engine = DedupEngine(
            threshold=threshold, ngram=ngram, num_perm=num_perm, seed=seed, verify=verify
        )
        wanted = [column, date_column] if keep == "newest" else [column]
        with _rows_progress(True, source.frame.height) as rows:
            columns, priority = lazy.dedup(
                engine,
                source.frame.lazy().select(wanted),
                column,
                keep,
                date_column,
                batch_size,
                rows,
            )
        if keep == "newest" and priority is not None:
            warn_undated(columns, priority, stacklevel=2)
        return source.rows_with(columns)
    priority = frame_priority(source.frame, keep, column, date_column)
    texts = source.frame.select(column)
    result = _core.dedup(
        text_stream(texts, column),
        options,
        None if priority is None else priority_stream(priority),
    )
    columns = pl.DataFrame(result[0])
    if keep == "newest" and priority is not None:
        warn_undated(columns, priority, stacklevel=2)
    return source.rows_with(columns)


def similar_pairs(
    frame: Any,
    column: str = "text",
    *,
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    seed: int = DEFAULT_SEED,
    verify: Verify = "exact",
    batch_size: int = lazy.BATCH_SIZE,
) -> Any:
    """The verified edges behind :func:`dedup`: ``a``, ``b`` (row indices,
    ``a < b``), ``similarity`` and ``exact``, sorted by ``(a, b)``.

    Each exact duplicate is linked to the first row with the same normalised
    text (``exact=True``, similarity 1.0); near-duplicate edges join distinct
    texts whose similarity is at least ``threshold``. The same edges as
    :func:`dedup` finds, without its clustering and scoring passes.

    ``frame`` is any input :func:`dedup` takes (a ``LazyFrame`` is streamed in
    batches of ``batch_size`` rows, in two passes). The edges are a pandas
    ``DataFrame`` for pandas input (plain numeric columns), else a Polars
    ``DataFrame`` (for a ``LazyFrame`` too: the edges are computed, and far
    fewer than the rows).
    """
    options = dedup_options(threshold, ngram, num_perm, seed, verify)
    lazy.check_batch_size(batch_size)
    source = frames.read(frame, "similar_pairs", column)
    if isinstance(source, pl.LazyFrame):
        engine = DedupEngine(
            threshold=threshold, ngram=ngram, num_perm=num_perm, seed=seed, verify=verify
        )
        return lazy.similar_pairs(engine, source, column, batch_size)
    edges = _core.similar_pairs(text_stream(source.frame, column), options)
    return source.table(pl.DataFrame(edges))


def minhash(
    series: Any,
    column: str = "text",
    *,
    ngram: int = 5,
    num_perm: int = 128,
    seed: int = DEFAULT_SEED,
    batch_size: int = lazy.BATCH_SIZE,
) -> pl.Series:
    """MinHash signatures of texts as a ``pl.Array(pl.UInt32, num_perm)``
    series named ``signature``. A text without words gets all ``2**32 - 1``.
    The values are the ones :func:`dedup` uses with the same options.

    ``series`` is any input :func:`dedup` takes: a series-like input is the
    texts, a frame-like one gives its ``column``; a ``LazyFrame`` is streamed
    in batches of ``batch_size`` rows. The result is a Polars Series for
    every input kind: a fixed-size array column has no plain pandas
    counterpart, and one kind of result is simpler to use.
    """
    lazy.check_batch_size(batch_size)
    if isinstance(series, pl.LazyFrame):
        lazy.text_schema(series, column)
        parts = [
            minhash(batch[column], ngram=ngram, num_perm=num_perm, seed=seed)
            for batch in lazy.batches(series, [column], batch_size)
        ]
        if parts:
            return pl.concat(parts)
        series = pl.Series(column, [], dtype=pl.String)
    texts = frames.read_series(series, "minhash", column)
    stream = text_stream(texts.rename("text"), "text")
    return pl.DataFrame(_core.minhash(stream, ngram, num_perm, seed)).to_series()


def banding(threshold: float = 0.8, num_perm: int = 128) -> tuple[int, int]:
    """The ``(bands, rows)`` LSH banding thresher uses for these options."""
    return _core.banding(float(threshold), num_perm)
