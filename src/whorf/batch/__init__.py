"""Batch jobs over many rows (``whorf batch``): compress, label, self-label, distillation targets, on a Ray
Data actor pool or in one process, with one output row per input row and resume by shard."""
