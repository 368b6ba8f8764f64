# Two commands for a fresh clone: `make build` builds the dataset, `make test` runs the tests.
# Both create the virtual environment .venv and install kdata into it on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: build test check clean

$(BIN)/kdata: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

build: $(BIN)/kdata  ## validate raw/ and write dist/ and schemas/
	$(BIN)/kdata build

test: $(BIN)/kdata  ## lint, type-check and run the test suite
	$(BIN)/ruff check kdata tests
	$(BIN)/ruff format --check kdata tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2

check: $(BIN)/kdata  ## what CI checks about the data: fresh dist/ and verified quotes
	$(BIN)/kdata build --check
	$(BIN)/kdata validate raw --archive ../shared/sources

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
