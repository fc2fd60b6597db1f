# The two commands of the README. Both create .venv with the project installed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test setup clean

$(BIN)/adoption: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/adoption

setup: $(BIN)/adoption

demo: setup
	$(BIN)/adoption run

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) reports/example
