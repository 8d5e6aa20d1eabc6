# The two commands a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INSTALL_LOG := $(VENV)/install.log

.PHONY: serve test lint typecheck check-display clean

# pip's output (about 100 lines) goes to $(INSTALL_LOG); it is shown only
# when something fails, so a first `make serve` reads as one line.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
		|| { echo "hubbub needs Python 3.11 or newer ($(PYTHON) is older or missing; try make PYTHON=python3.12)"; exit 2; }
	@echo "setting up $(VENV) (first run only, log in $(INSTALL_LOG))..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) \
		|| { echo "cannot create $(VENV); on Debian/Ubuntu: apt-get install python3-venv"; exit 2; }
	@{ $(BIN)/python -m pip install --upgrade pip \
		&& $(BIN)/python -m pip install -e '.[dev]'; } >$(INSTALL_LOG) 2>&1 \
		|| { tail -n 40 $(INSTALL_LOG); echo "setting up $(VENV) failed; the last lines are above, all of it in $(INSTALL_LOG)"; exit 2; }
	@touch $(STAMP)

serve: $(STAMP)
	@$(BIN)/hubbub serve $(ARGS)

# The desktop client and panel tests draw real Tk windows: they need Tk and
# an X display (a private Xvfb is started when $DISPLAY is unset).
check-display: $(STAMP)
	@$(BIN)/python -c 'import tkinter' 2>/dev/null \
		|| { echo "make test: Python has no Tk (tkinter); on Debian/Ubuntu: apt-get install python3-tk"; exit 2; }
	@test -n "$$DISPLAY" || command -v Xvfb >/dev/null \
		|| { echo "make test: the GUI and panel tests need an X display: install Xvfb (apt-get install xvfb) or set DISPLAY; without them run .venv/bin/pytest tests --ignore=tests/gui --ignore=tests/panel"; exit 2; }

test: check-display
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

# src/ strictly (pyproject.toml), the tests in mypy's default mode (tests/mypy.ini).
typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --config-file tests/mypy.ini tests

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
