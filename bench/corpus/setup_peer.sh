#!/usr/bin/env bash
# Make the peer-baseline venv for bench/corpus/peer_headroom.py: headroom-ai
# 0.42.x from PyPI, core install only (no extras), so no torch, transformers,
# onnxruntime or model weights. Idempotent: a venv that already holds a 0.42.x
# headroom-ai is left as it is.
#
#   bash bench/corpus/setup_peer.sh            # -> <repo>/.venv-peer
#   PEER_VENV=/elsewhere bash bench/corpus/setup_peer.sh
#   PEER_MINIMAL=1 bash bench/corpus/setup_peer.sh
#
# Needs only PyPI. No extra is needed for headroom's text compression
# (SmartCrusher and the log/search/diff/tabular compressors are in the wheel's
# Rust core, headroom/_core.abi3.so). The default is the supported core
# install, ~500 MB on disk, 200 MB of it litellm, which compress() never
# imports. PEER_MINIMAL=1 installs headroom-ai with --no-deps plus the few
# dependencies its compress() path imports (~125 MB; pip then reports litellm,
# ast-grep-cli and hf-xet as missing); on tests/fixtures/programs its output
# is byte-identical to the core install's. Run the benchmark with
# "$PEER_VENV/bin/python bench/corpus/peer_headroom.py".
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${PEER_VENV:-$repo/.venv-peer}"
spec='headroom-ai==0.42.*'
python="${PYTHON:-python3}"

installed_version() {
    "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("headroom-ai"))' 2>/dev/null || true
}

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi

case "$(installed_version)" in
    0.42.*) ;;
    *)
        if [ "${PEER_MINIMAL:-0}" = 1 ]; then
            "$venv/bin/python" -m pip install --disable-pip-version-check -q --no-deps "$spec"
            "$venv/bin/python" -m pip install --disable-pip-version-check -q \
                tiktoken pydantic click rich opentelemetry-api pyyaml tomlkit \
                truststore filelock httpx
        else
            "$venv/bin/python" -m pip install --disable-pip-version-check -q "$spec"
        fi
        ;;
esac

version="$(installed_version)"
case "$version" in
    0.42.*) ;;
    *) echo "setup_peer: headroom-ai 0.42.x not installed (got '${version}')" >&2; exit 1 ;;
esac

# The baseline must run with no ML stack: fail loudly if one is present.
if "$venv/bin/python" -c 'import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ("torch", "transformers", "onnxruntime")))'; then
    :
else
    echo "setup_peer: warning: torch/transformers/onnxruntime present in $venv" >&2
fi

echo "setup_peer: $venv has headroom-ai $version"
