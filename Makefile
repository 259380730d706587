# ember: set up, test, demo, benchmark and lint from a fresh clone.
#
# Every target creates .venv (python3 -m venv) when it is missing and installs ember into it
# editable, with the extras the target needs. A stamp file per install records that pip ran
# for the current pyproject.toml, so pip runs again only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
PYTEST_ARGS ?=

STAMP_RUNTIME := $(VENV)/.ember-runtime.stamp
STAMP_TEST := $(VENV)/.ember-test.stamp
STAMP_DEV := $(VENV)/.ember-dev.stamp

.PHONY: all test demo bench lint venv clean-venv

all: test

$(PY):
	$(PYTHON) -m venv $(VENV)

# Runtime only (numpy): enough for the demo.
$(STAMP_RUNTIME): pyproject.toml | $(PY)
	$(PIP) -e .
	touch $@

# Test extras: pytest, pytest-xdist, hypothesis and torch==2.13.0 (the oracle).
$(STAMP_TEST): pyproject.toml | $(PY)
	$(PIP) -e '.[test]'
	touch $(STAMP_RUNTIME) $@

# Test and dev extras (ruff, threadpoolctl): the benchmark and lint need these.
$(STAMP_DEV): pyproject.toml | $(PY)
	$(PIP) -e '.[test,dev]'
	touch $(STAMP_RUNTIME) $(STAMP_TEST) $@

venv: $(STAMP_DEV)

test: $(STAMP_TEST)
	$(PY) -m pytest -n 2 -q $(PYTEST_ARGS)

demo: $(STAMP_RUNTIME)
	$(PY) examples/autograd_tour.py

# OpenBLAS settings from the environment would skew the comparison: unset for this run only.
bench: $(STAMP_DEV)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) bench/op_overhead.py
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) bench/resnet_step.py
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) bench/mlp_step.py

lint: $(STAMP_DEV)
	$(PY) -m ruff check src tests bench examples

clean-venv:
	rm -rf $(VENV)
