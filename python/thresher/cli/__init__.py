"""The ``thresher`` command.

* :mod:`thresher.cli.args`: argument parsing and exit codes;
* :mod:`thresher.cli.pipeline`: the phases of ``thresher dedup`` and
  ``thresher scan``, with their checkpoints;
* :mod:`thresher.cli.workdir`: the work directory that makes a run resumable;
* :mod:`thresher.cli.outputs`: atomic writes of the output files;
* :mod:`thresher.cli.report`: the ``report.html`` page.

What is shown while a command runs is :mod:`thresher.progress`, which the
library's ``progress=True`` shares.
"""

from __future__ import annotations

from thresher.cli.args import build_parser, main

__all__ = ["build_parser", "main"]
