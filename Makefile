# The two commands of the README:
#   make repro   set up (if needed) and rebuild every stage with `dvc repro`
#   make test    set up (if needed) and run the test suite
# Setup creates .venv with the pinned dependencies; it is skipped when pyproject.toml and
# constraints.txt have not changed since the last install.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
# DVC: no telemetry and no update checks (the registries are the only network here).
export DVC_NO_ANALYTICS := 1
export DVC_NO_UPDATE_CHECK := 1

.PHONY: repro test setup clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

repro: $(STAMP)
	$(BIN)/dvc pull --quiet data.dvc
	$(BIN)/dvc repro

test: $(STAMP)
	$(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)
