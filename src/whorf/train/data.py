"""Moved to :mod:`whorf.data` (neutral between training and evaluation); kept as an alias for old imports."""

from whorf.data import *  # noqa: F401,F403
from whorf.data import Row, read, read_all  # noqa: F401
