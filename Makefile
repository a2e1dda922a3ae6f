# reviewgap: install into a local virtualenv and run the demo or the tests.
# torch is installed first and pinned: a bare `torch` requirement pulls a multi-GB CUDA build.

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,onnx,multilingual]'
	touch $(STAMP)

demo: install
	$(VENV)/bin/reviewgap demo --out demo-out

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not ml and not slow"

bench: install
	$(PY) -m pip install --quiet -e '.[bench]'
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

lint: install
	$(VENV)/bin/ruff check spiders analysis tests bench

clean:
	rm -rf $(VENV) demo-out .pytest_cache
