# reviewgap: install into a local virtualenv and run the demo or the tests.
# torch is installed first and pinned: a bare `torch` requirement pulls a multi-GB CUDA build.
# Every install goes through constraints.txt, the exact versions the suite last passed with, so a
# release on the registry (transformers 5.24 changed a private helper overnight) cannot break a
# clean install; `make lock` refreshes it from the newest versions.

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCK := constraints.txt
PIP_LOCKED := -m pip install --quiet -c $(LOCK)

.PHONY: install demo test test-fast bench lint lock clean

install: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) $(PIP_LOCKED) --upgrade pip
	$(PY) $(PIP_LOCKED) torch==2.13.0
	$(PY) $(PIP_LOCKED) -e '.[dev,onnx,openvino,multilingual]'
	touch $(STAMP)

demo: install
	$(VENV)/bin/reviewgap demo --out demo-out

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not ml and not slow"

bench: install
	$(PY) $(PIP_LOCKED) -e '.[bench]'
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

lint: install
	$(VENV)/bin/ruff check spiders analysis tests bench

# The newest versions the registry holds, installed into a scratch venv and frozen (torch's local
# "+cpu" label dropped: `==2.13.0` matches the CPU build). Run the tests before committing it.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet torch==2.13.0
	.lock-venv/bin/python -m pip install --quiet '.[dev,onnx,openvino,multilingual]'
	{ echo "# Exact versions \`make install\` uses (pip -c); written by \`make lock\`, tested by CI."; \
	  .lock-venv/bin/python -m pip freeze --all --exclude reviewgap | sed 's/+cpu$$//'; } > $(LOCK)
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) demo-out .pytest_cache
