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

.PHONY: repro test setup browser lab clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

repro: $(STAMP)
	$(BIN)/dvc pull --quiet data.dvc
	$(BIN)/dvc repro

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The browser test drives Debian's Chromium (Playwright cannot download its own browser here).
# Installed with apt when missing and we are root; otherwise the test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } \
	      || echo "WARNING: apt-get could not install chromium: the browser test will skip"; \
	  else echo "chromium missing and not root: the browser test will skip (apt-get install chromium)"; fi; }

# JupyterLab on this workspace (notebooks/explore.ipynb has the widgets); the URL with its token is printed.
lab: $(STAMP)
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/explore.ipynb

clean-venv:
	rm -rf $(VENV)
