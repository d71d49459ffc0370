"""Offline evaluation over FAQ pairs (JSONL) and SQuAD-format sets (``survey-assistant eval``).

``dataset`` reads the input files, ``runner`` asks every question through ``Assistant`` and scores
it with ``metrics``, ``report`` writes report.json / report.md / charts, and ``command`` is the CLI
entry point. The output format is fixed by the contract in contracts.md.
"""
