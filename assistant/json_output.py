"""JSON on stdout for the ``--json`` forms of the commands: one line, Chinese kept as it is."""

from __future__ import annotations

import json
import sys


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
