# The two commands a newcomer needs: `make demo` and `make test`.
# Each installs what it needs on a fresh Debian 12 machine (as root).

VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin

.PHONY: demo demo-stop test system venv lint unit clean

system:
	bash scripts/setup-system.sh

$(BIN)/dockyard: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/dockyard

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	cd examples/fleet && ../../$(BIN)/dockyard lint

# pytest exits 5 when it collects nothing: that is a failure, said out loud.
unit: venv
	$(BIN)/pytest -q -m "not integration"

test: system venv lint
	@$(BIN)/pytest -q; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; \
	  exit $$rc

demo: system venv
	bash examples/demo.sh

# Stops the demo's registries (left running by DEMO_KEEP=1 make demo).
demo-stop:
	$(BIN)/python examples/tools/registries.py stop

clean:
	rm -rf $(VENV) dist .pytest_cache .hypothesis
