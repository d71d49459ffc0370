"""Benchmarks and evaluation runs (``make bench``, ``make eval``): the top layer, may import
``cli``, ``ui``, ``assistant`` and ``index``; nothing imports it."""
