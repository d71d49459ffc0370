"""The local GGUF model in a process of its own, so that a native crash, hang or out-of-memory
kill of llama.cpp ends that process and never the application.

``worker`` runs in the child and is the only code that imports llama_cpp; ``process`` is the
parent's side. Both import only the standard library, numpy and ``assistant.errors``, so the
child starts without loading the rest of the assistant.
"""
