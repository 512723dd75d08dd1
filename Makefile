# The two commands of the README:
#   make run   set up, then compress the bundled log with the shipped model (light path: int8 ONNX)
#   make test  set up, then run the test suite
# Others: make test-quick (the tests not marked slow), make bench (speed benchmark, docs/eval/speed.json), make docs (figures from the reports), make onnx (re-export the shipped model's
# int8 graph after retraining, with the gate on held-out rows), make light (fresh venv without extras).
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
SHIPPED ?= src/whorf/models/whorf-micro
GATE_DATA ?= ../shared/data/ultrawhale

.PHONY: setup run test test-quick bench bench-quick onnx light clean docs

setup: $(VENV)/.installed

# The dev/test venv: torch first (the CPU build pinned by the train extra), then everything editable.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[all,test]'
	touch $@

run: setup
	$(VENV)/bin/whorf compress src/whorf/examples/app.log --runtime auto --stats

test: setup
	$(PY) -m pytest -q

# The quick subset: everything but the tests marked slow (real agents, a browser, PostgreSQL, fresh venvs)
test-quick: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	$(PY) bench/speed.py --json docs/eval/speed.json

# Every figure in README.md and docs/ again from the committed reports (docs/eval/*.json, onnx.json)
docs: setup
	$(PY) bench/docs.py

bench-quick: setup
	$(PY) bench/speed.py --quick --no-install

# Re-export the shipped model's graph (model.int8.onnx, tokenizer.json, onnx.json) from its adapter, with the
# quantization recipe its onnx.json records, and
# gate it: >= 99% keep-decision agreement with fp32 torch and exact_keep_pct drop <= 0.005 on held-out rows.
onnx: setup
	$(VENV)/bin/whorf ship-onnx $(SHIPPED) --gate-data $(GATE_DATA)/kompress_train_split.jsonl \
	  --gate-data $(GATE_DATA)/kompress_agent_train.jsonl --gate-data $(GATE_DATA)/domain_train_2k.jsonl \
	  --gate-data $(GATE_DATA)/c3_qwen_labeled.jsonl

# The inference install a user gets: a fresh venv with `pip install .` (no extras, no torch).
light:
	rm -rf /tmp/whorf-light && python3 -m venv /tmp/whorf-light
	/tmp/whorf-light/bin/pip install -q .
	/tmp/whorf-light/bin/whorf compress src/whorf/examples/traceback.txt --stats > /dev/null
	du -sh /tmp/whorf-light

clean:
	rm -rf $(VENV) build *.egg-info

# make model (owned by the training code): rebuild the shipped models from HEAD: the teacher whorf-mini
# with the README's training command (about 20-25 min on 2 CPU cores), then the default model whorf-micro
# distilled from it (make student, about 30 min). whorf.json records the commit, the data files' sha256,
# the must-keep profile's hash and the router version; tests/test_e2e.py fails when a shipped model's
# profile or router differs from HEAD's. An interrupted teacher run resumes (same commit and directory).
DATA ?= ../shared/data/ultrawhale
# More prose, opt in: real READMEs and doc pages this machine holds (the installed Python packages'
# descriptions, the bundled Python language reference, /usr/share/doc), labelled by the shipped whorf-mini
# with its must-keep override as the self-labelling loop does (texts it compresses less than 1.2x are left
# out; about 2 min). Measured once (docs/eval/prose_curve.md, "prose mix"): no better on held-out Q&A prose,
# so the shipped models are trained without it. To repeat: make prose-mix && make model EXTRA_DATA="--data runs/prose_mix.jsonl"
PROSE_MIX ?= runs/prose_mix.jsonl
EXTRA_DATA ?=
.PHONY: prose-mix
prose-mix: setup
	mkdir -p $(dir $(PROSE_MIX))
	$(VENV)/bin/whorf label-prose --out $(PROSE_MIX) --docs /usr/share/doc --limit 2400
MODEL_RUN = runs/whorf-mini-$(shell git rev-parse --short HEAD)
.PHONY: model teacher
model: teacher student

teacher: setup
	$(VENV)/bin/whorf train --name whorf-mini --out $(MODEL_RUN) --target-keep-rate 0.55 \
	  --data $(DATA)/kompress_train_split.jsonl --data $(DATA)/kompress_agent_train.jsonl \
	  --data $(DATA)/domain_train_2k.jsonl --data $(DATA)/c3_qwen_labeled.jsonl --data $(DATA)/dogfeed_raw.jsonl $(EXTRA_DATA)
	cp $(MODEL_RUN)/whorf.json $(MODEL_RUN)/adapter.safetensors src/whorf/models/whorf-mini/
	@echo "whorf-mini rebuilt from $(MODEL_RUN); commit src/whorf/models/whorf-mini"

# make student: distil the shipped whorf-mini into whorf-micro (its layers 0, 2 and 5), matched to the
# teacher's scores on the same training rows; copies it into src/whorf/models/whorf-micro and exports and
# gates its int8 graph (against its own fp32 weights and against the teacher) on the held-out rows. Only
# the first layer's FFN output projection and the token head stay fp32 (measured: 0.9917 agreement with
# the student's fp32 weights; every FFN int8: 0.9892, under the gate). About 30 min on 2 idle cores.
STUDENT_RUN = runs/whorf-micro-$(shell git rev-parse --short HEAD)
.PHONY: student
student: setup
	$(VENV)/bin/whorf student --teacher whorf-mini --name whorf-micro --out $(STUDENT_RUN) --layers 0,2,5 --epochs 4 \
	  --data $(DATA)/kompress_train_split.jsonl --data $(DATA)/kompress_agent_train.jsonl \
	  --data $(DATA)/domain_train_2k.jsonl --data $(DATA)/c3_qwen_labeled.jsonl --data $(DATA)/dogfeed_raw.jsonl $(EXTRA_DATA)
	mkdir -p src/whorf/models/whorf-micro
	cp $(STUDENT_RUN)/whorf.json $(STUDENT_RUN)/adapter.safetensors src/whorf/models/whorf-micro/
	$(MAKE) onnx SHIPPED=src/whorf/models/whorf-micro
