# Two commands for a fresh clone: `make build` builds the dataset, `make test` runs the tests.
# Both install into the virtual environment .venv exactly the versions pinned in uv.lock, using uv
# (itself pinned, installed on first use into .uv/). `make build` installs kdata and what it needs to
# run; `make test` adds the test tools (dependency group `test`, with pre-commit); `make curate` adds the
# `curate` extra (trafilatura, which `kdata sources add` needs for .html pages).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
UV := .uv/bin/uv
# uv reads this project's uv.lock and pyproject.toml only; it never downloads a Python interpreter.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
SYNC := $(UV) sync --locked --python $(PYTHON)

.PHONY: build test curate check lock clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# An environment made with another Python (`make build PYTHON=python3.12` after a build with 3.11)
# loses its stamps, so the next sync runs, and uv recreates .venv with $(PYTHON). Interpreters are
# compared by base prefix and version: a venv reports those of the Python it was made from.
PYTHON_ID := -c 'import sys; print(sys.base_prefix, sys.version)'
ifneq ($(wildcard $(BIN)/python),)
ifneq ($(shell $(BIN)/python $(PYTHON_ID) 2>&1),$(shell $(PYTHON) $(PYTHON_ID) 2>&1))
$(info $(VENV) was made with another Python than $(PYTHON): it is recreated.)
$(shell rm -f $(VENV)/.build-env $(VENV)/.test-env)
endif
endif

# Stamps: the environment is re-synced when pyproject.toml or uv.lock changes. --inexact keeps the
# test tools when `make build` runs after `make test`.
$(VENV)/.build-env: pyproject.toml uv.lock | $(UV)
	$(SYNC) --inexact --quiet
	touch $@

# The test environment is compiled to bytecode once (--compile-bytecode; kdata itself by `make test`):
# the suite starts hundreds of Python processes, and where PYTHONDONTWRITEBYTECODE is set (as on CI
# machines) each of them would otherwise compile every module it imports from source.
$(VENV)/.test-env: pyproject.toml uv.lock | $(UV)
	$(SYNC) --group test --compile-bytecode --quiet
	touch $(VENV)/.build-env $@

$(VENV)/.curate-env: pyproject.toml uv.lock | $(UV)
	$(SYNC) --inexact --extra curate --quiet
	touch $(VENV)/.build-env $@

build: $(VENV)/.build-env  ## validate raw/ and write dist/ and schemas/
	$(BIN)/kdata build

test: $(VENV)/.test-env  ## lint, type-check and run the test suite
	$(BIN)/ruff check kdata tests
	$(BIN)/ruff format --check kdata tests
	$(BIN)/mypy
	$(BIN)/python -m compileall -q kdata benchmarks
	$(BIN)/python -m pytest -n 2

curate: $(VENV)/.curate-env  ## add the `curate` extra (trafilatura, for `kdata sources add page.html`) to .venv

check: $(VENV)/.build-env  ## what CI checks about the data: fresh dist/ and verified quotes
	$(BIN)/kdata build --check
	$(BIN)/kdata validate raw

lock: | $(UV)  ## re-resolve uv.lock after a change to the dependencies in pyproject.toml
	$(UV) lock

clean:
	rm -rf $(VENV) .uv .pytest_cache .mypy_cache .ruff_cache
