# k8snet — two commands: `make lab` (set up and open JupyterLab) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test unit sandbox notebooks build-notebooks kind bench preflight down clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[lab,test]'
	touch $(STAMP)

preflight: $(STAMP)
	@$(BIN)/python -m k8snet_tutorial.preflight

lab: preflight
	@$(BIN)/k8snet doctor
	$(BIN)/jupyter lab --notebook-dir=notebooks

test: preflight
	$(BIN)/pytest tests $(if $(wildcard notebooks/*/*.ipynb),--nbval notebooks --sanitize-with notebooks/sanitize.cfg)

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

sandbox: preflight
	$(BIN)/pytest -q tests/sandbox

notebooks: preflight
	$(BIN)/pytest --nbval notebooks --sanitize-with notebooks/sanitize.cfg

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
