"""Lists of names and defaults kept once: the Python copies equal the core's;
and a figure the docs quote."""

from __future__ import annotations

import argparse
import inspect
from dataclasses import fields
from pathlib import Path
from typing import get_args

import thresher
from thresher import _core, _names
from thresher.cli import build_parser, pipeline


def test_formats_are_the_cores() -> None:
    assert get_args(_names.Format) == _core.FORMATS == _names.FORMATS
    assert _core.FORMATS[0] == "auto" and "paper_listing" in _core.FORMATS
    # Every name is documented where ingest() describes format=.
    doc = thresher.ingest.__doc__ or ""
    for name in _core.FORMATS:
        assert f'"{name}"' in doc, name


def test_html_modes_are_the_cores() -> None:
    assert get_args(_names.Html) == _core.HTML_MODES == _names.HTML_MODES
    doc = thresher.ingest.__doc__ or ""
    for name in _core.HTML_MODES:
        assert f'"{name}"' in doc, name
    for content_type in _core.DEFAULT_CONTENT_TYPES:
        assert "/" in content_type


def test_verify_values_are_the_cores() -> None:
    assert get_args(_names.Verify) == _core.VERIFY == _names.VERIFY_VALUES


def test_default_seed_is_the_cores() -> None:
    assert thresher.DEFAULT_SEED == _core.DEFAULT_SEED == 42
    for function in (
        thresher.dedup,
        thresher.similar_pairs,
        thresher.minhash,
        thresher.DedupEngine.__init__,
    ):
        seed = inspect.signature(function).parameters["seed"].default
        assert seed == _core.DEFAULT_SEED, function


def test_limits_are_the_cores() -> None:
    defaults = _core.default_limits()
    assert [f.name for f in fields(thresher.Limits)] == list(defaults)
    assert {f.name: getattr(thresher.Limits(), f.name) for f in fields(thresher.Limits)} == defaults


def _action(parser: argparse.ArgumentParser, command: str, flag: str) -> argparse.Action:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return next(a for a in sub.choices[command]._actions if flag in a.option_strings)


def _choices(parser: argparse.ArgumentParser, command: str, flag: str) -> tuple[str, ...]:
    return tuple(_action(parser, command, flag).choices or ())


def test_cli_choices_are_the_libraries() -> None:
    parser = build_parser()
    for command in ("dedup", "scan"):
        assert _choices(parser, command, "--format") == _core.FORMATS
        assert _choices(parser, command, "--html") == _core.HTML_MODES
    assert _choices(parser, "dedup", "--verify") == _core.VERIFY
    assert _choices(parser, "dedup", "--keep") == get_args(_names.Keep)
    assert _action(parser, "dedup", "--seed").default == _core.DEFAULT_SEED


def test_documented_bytes_per_row_match_the_defaults() -> None:
    # Exact key, two flags, band keys, and the row with the first copy of
    # the text: the figure README.md, DedupEngine and the CLI's pipeline quote.
    bands, _ = thresher.banding()
    per_row = 16 + 2 + 8 * bands + 4
    assert per_row == 190
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for text in (readme, thresher.engine.__doc__ or "", pipeline.__doc__ or ""):
        assert f"{per_row}" in text
        assert f"{per_row - 4} bytes" not in text and "18 + 8" not in text
