# The two commands of the README:
#   make run   set up, then compress the bundled traceback with the shipped model
#   make test  set up, then run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup run test bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $@

run: setup
	$(VENV)/bin/whorf compress src/whorf/examples/traceback.txt --stats

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/speed.py

clean:
	rm -rf $(VENV) build *.egg-info
