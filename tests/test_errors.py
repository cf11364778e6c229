"""The exception hierarchy and which errors map to which class."""

from __future__ import annotations

import pickle
from pathlib import Path

import polars as pl
import pytest

import thresher
import thresher.errors
from thresher import _core

TEXTS = pl.Series("text", ["a b c d e f", "a b c d e f", "x y z"])


def test_hierarchy_and_exports() -> None:
    for name in ("ThresherError", "InvalidOptionError", "UsageError", "InputError"):
        assert name in thresher.__all__ and name in thresher.errors.__all__
        assert getattr(thresher, name) is getattr(thresher.errors, name)
    assert thresher.ThresherError is _core.ThresherError
    assert issubclass(thresher.InvalidOptionError, thresher.ThresherError)
    assert issubclass(thresher.InvalidOptionError, ValueError)
    for cls in (thresher.UsageError, thresher.InputError):
        assert issubclass(cls, thresher.ThresherError)
        assert not issubclass(cls, ValueError)
        assert not issubclass(cls, thresher.InvalidOptionError)


def test_bad_options_raise_invalid_option_error() -> None:
    frame = TEXTS.to_frame()
    with pytest.raises(thresher.InvalidOptionError, match="threshold"):
        thresher.dedup(frame, threshold=2.0)
    with pytest.raises(thresher.InvalidOptionError, match="num_perm"):
        thresher.DedupEngine(num_perm=0)
    with pytest.raises(thresher.InvalidOptionError, match="unknown format"):
        thresher.ingest([], format="pdf")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        lambda: thresher.dedup(TEXTS.to_frame(), verify="bogus"),  # type: ignore[arg-type]
        lambda: thresher.similar_pairs(TEXTS.to_frame(), verify="bogus"),  # type: ignore[arg-type]
        lambda: thresher.DedupEngine(verify="bogus"),  # type: ignore[arg-type]
    ],
)
def test_bad_verify_raises_invalid_option_error(call: object) -> None:
    # Was a plain ValueError, outside the hierarchy.
    with pytest.raises(thresher.InvalidOptionError, match="verify"):
        call()  # type: ignore[operator]


def test_calls_out_of_order_raise_usage_error() -> None:
    engine = thresher.DedupEngine()
    with pytest.raises(thresher.UsageError, match="find_candidates") as info:
        engine.verify(TEXTS)
    assert not isinstance(info.value, ValueError)
    engine.add(engine.sketch(TEXTS))
    engine.find_candidates()
    with pytest.raises(thresher.UsageError, match="add"):
        engine.add(engine.sketch(TEXTS))
    with pytest.raises(thresher.UsageError, match="find_candidates was already called"):
        engine.find_candidates()
    with pytest.raises(thresher.UsageError, match="score"):
        engine.score(TEXTS)


def test_input_error_names_the_place() -> None:
    err = thresher.InputError("truncated", source="a.tar", member="x.jsonl", offset=512)
    assert (err.source, err.member, err.offset, err.reason) == (
        "a.tar",
        "x.jsonl",
        512,
        "truncated",
    )
    assert str(err) == "a.tar, member x.jsonl, at byte 512: truncated"
    assert str(thresher.InputError("gone", source="b.txt")) == "b.txt, at byte 0: gone"
    again = pickle.loads(pickle.dumps(err))
    assert isinstance(again, thresher.InputError)
    assert (again.source, again.member, again.offset, str(again)) == (
        "a.tar",
        "x.jsonl",
        512,
        str(err),
    )


def test_unreadable_inputs_stay_error_rows(tmp_path: Path) -> None:
    # A path that does not exist raises before any work; one that exists but
    # cannot be opened (here a link to nowhere) is an error row, as before.
    with pytest.raises(FileNotFoundError):
        thresher.ingest("/nonexistent/thresher-input")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    result = thresher.ingest(dangling)
    assert result.records.height == 0
    assert result.errors["source"].to_list() == [str(dangling)]


def test_internal_errors_are_not_option_errors() -> None:
    table = _core.empty_errors()
    table.__arrow_c_stream__()
    with pytest.raises(thresher.ThresherError, match="already exported") as info:
        table.__arrow_c_stream__()
    assert not isinstance(info.value, (ValueError, thresher.UsageError))


def test_feeding_more_rows_than_added_is_a_usage_error() -> None:
    base = " ".join(f"w{i}" for i in range(40))
    texts = pl.Series([base, base + " extra words", "something else entirely here"])
    engine = thresher.DedupEngine()
    engine.add(engine.sketch(texts))
    assert engine.find_candidates() > 0
    engine.verify(texts)
    with pytest.raises(thresher.UsageError, match="fed 6 rows, but there are only 3"):
        engine.verify(texts)
