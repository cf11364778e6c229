# Everyday targets. `make demo` and `make test` are the README's two commands.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
export VIRTUAL_ENV := $(abspath $(VENV))

.PHONY: demo dev test test-rust test-python lint fmt fuzz bench clean

$(PY):
	python3 -m venv $(VENV)

# Install thresher (release build) and run the demo on the bundled sample dumps.
demo: $(PY)
	$(PIP) install .
	$(VENV)/bin/thresher demo

# Development install: quick build into the venv, with the test tools.
dev: $(PY)
	$(PIP) install "maturin>=1.8,<2"
	$(VENV)/bin/maturin develop -q --extras test,ray

test-rust:
	cargo test --workspace

test-python: dev
	$(PY) -m pytest -q

# Every test: Rust and Python.
test: test-rust test-python

# Property-based fuzzing of the sniffer, every parser and every container
# (rust/core/tests/fuzz_ingest.rs) with many more cases than `make test`,
# bounded in time.
FUZZ_CASES ?= 4000
fuzz:
	THRESHER_FUZZ_CASES=$(FUZZ_CASES) timeout 900 cargo test -p thresher-core --test fuzz_ingest

lint: dev
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/ruff format --check python tests benches
	$(PY) -m mypy python/thresher
	$(PY) -m mypy.stubtest thresher._core

fmt: dev
	cargo fmt --all
	$(VENV)/bin/ruff format python tests benches
	$(VENV)/bin/ruff check --fix python tests benches

# Benchmarks against a release build (LTO) in its own venv, so that the dev
# build in $(VENV) is left alone: quality against exact Jaccard, then speed
# against rensa and datasketch. The release build takes minutes.
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python

$(BENCH_PY):
	python3 -m venv $(BENCH_VENV)

bench: export VIRTUAL_ENV := $(abspath $(BENCH_VENV))
bench: $(BENCH_PY)
	$(BENCH_PY) -m pip --disable-pip-version-check -q install ".[bench]"
	$(BENCH_PY) benches/eval_quality.py
	$(BENCH_PY) benches/eval_html_quality.py
	$(BENCH_PY) benches/bench_speed.py
	$(BENCH_PY) benches/bench_ingest.py

clean:
	rm -rf target $(VENV)
