"""Live demos of the survey's three code examples (section 5): GPT text generation, BERT
classification and DALL-E image generation.

Each demo checks what it needs on its own (a local model, a key, an endpoint) and says how to
configure it when something is missing; none of them is needed by the question answering.
"""
