"""The parser worker process: ``python -P -m index.parse_worker`` (started by index/parsers.py).

Reads one JSON request per line on stdin ({"fmt", "path", "name"}) and writes one JSON reply per
line ({"status", "payload"}: parsers.parse_job's result). It ends when stdin closes, that is when
the indexing process exits or stops it. Whatever a parser library prints goes to stderr, never
into the replies.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from index.parsers import parse_job

    for line in sys.stdin:
        request = json.loads(line)
        status, payload = parse_job(request["fmt"], request["path"], request["name"])
        replies.write(json.dumps({"status": status, "payload": payload}) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
