"""The command line (``survey-assistant``): an edge, like the web app. It may import ``ui`` (for
``serve``), ``assistant`` and nothing of ``index`` directly; nothing imports it but the entry
points (``assistant.__main__`` keeps ``python -m assistant`` of contracts.md working)."""
