# Two entry points (see README.md): `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/posture solve inputs/study.yaml

lint: $(VENV)/.installed-test
	$(BIN)/ruff check posture tests
	$(BIN)/mypy

test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest -q

# The dedicated fuzz run (not part of make test, which runs a small smoke sample).
fuzz: $(VENV)/.installed-test
	POSTURE_FUZZ_CASES=10000 $(BIN)/python -m pytest tests/fuzz -q -s

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
