"""Moved to :mod:`whorf.data.labels` (neutral between training and evaluation); kept as an alias."""

from whorf.data.labels import *  # noqa: F401,F403
from whorf.data.labels import aligned_rule, from_spans, label, norm, seed_rule  # noqa: F401
