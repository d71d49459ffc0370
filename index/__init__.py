"""The index layer: files in, chunks, vectors and keyword postings stored, passages retrieved.
A leaf: it imports no package of this project above it, and takes plain values (``IndexConfig``,
an embedder) rather than the settings object."""
