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

# make model (owned by the training code): rebuild the shipped default model from HEAD with the README's
# training command: about 20-25 min on 2 CPU cores. whorf.json records the commit, the data files'
# sha256, the must-keep profile's hash and the router version; tests/test_e2e.py fails when the shipped
# model's profile or router differs from HEAD's. An interrupted run resumes (same commit, same directory).
DATA ?= ../shared/data/ultrawhale
MODEL_RUN = runs/whorf-mini-$(shell git rev-parse --short HEAD)
.PHONY: model
model: setup
	$(VENV)/bin/whorf train --name whorf-mini --out $(MODEL_RUN) --target-keep-rate 0.55 \
	  --data $(DATA)/kompress_train_split.jsonl --data $(DATA)/kompress_agent_train.jsonl \
	  --data $(DATA)/domain_train_2k.jsonl --data $(DATA)/c3_qwen_labeled.jsonl --data $(DATA)/dogfeed_raw.jsonl
	cp $(MODEL_RUN)/whorf.json $(MODEL_RUN)/adapter.safetensors src/whorf/models/whorf-mini/
	@echo "whorf-mini rebuilt from $(MODEL_RUN); commit src/whorf/models/whorf-mini"
