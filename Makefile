# k8snet — two commands: `make lab` (set up and open JupyterLab) and `make test` (the whole suite).
# nbval's sanitizer (notebooks/sanitize.cfg) is set in pyproject.toml's [tool.pytest.ini_options] addopts.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test unit sandbox notebooks build-notebooks kind bench preflight down clean

# Before .venv exists, the system python3 runs the preflight as a plain file: it installs the missing Debian
# packages (python3-venv among them) with apt-get as root, else with sudo (asking first), or says how and exits 3.
$(STAMP): pyproject.toml
	@$(PYTHON) k8snet_tutorial/preflight.py --install
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[lab,test]'
	touch $(STAMP)

preflight: $(STAMP)
	@$(BIN)/python -m k8snet_tutorial.preflight --install

lab: preflight
	@$(BIN)/k8snet doctor
	$(BIN)/jupyter lab --notebook-dir=notebooks

test: preflight
	$(BIN)/pytest tests $(if $(wildcard notebooks/*/*.ipynb),--nbval notebooks)

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

sandbox: preflight
	$(BIN)/pytest -q tests/sandbox

notebooks: preflight
	$(BIN)/pytest --nbval notebooks

# Re-run every chapter and store its outputs (after a change in the library or in notebooks/src/).
build-notebooks: preflight
	$(BIN)/python notebooks/build.py

kind: preflight
	K8SNET_BACKEND=kind $(BIN)/pytest -q tests/kind -m kind

bench: preflight
	$(BIN)/python -m benchmarks.run

down: $(STAMP)
	$(BIN)/k8snet down

clean:
	rm -rf $(VENV) .pytest_cache

# Every chapter rendered in JupyterLab in headless Chromium: no error, diagrams drawn, widgets live;
# full-page screenshots in build/screenshots/. Debian's chromium (installed here when root) + playwright's driver.
.PHONY: screenshots
screenshots: preflight
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || { echo "screenshots: needs Debian's chromium (apt-get install chromium)"; exit 1; }
	@$(BIN)/python -c 'import playwright' 2>/dev/null || $(BIN)/pip install --quiet playwright==1.65.2
	$(BIN)/pytest -m browser tests/browser -v -s
