# Conveniences over dev.py, which needs only Python 3.11+ and pip (see README.md).
PYTHON ?= python3

.PHONY: run test fuzz clean

run:
	$(PYTHON) dev.py run

test:
	$(PYTHON) dev.py test

fuzz:
	$(PYTHON) dev.py fuzz

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
