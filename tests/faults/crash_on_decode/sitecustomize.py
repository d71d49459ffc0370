"""A llama.cpp build that crashes on its first decode, as the AMX kernels of a native build do
on CPUs that advertise AMX (SIGSEGV in the first ``llama_decode``).

A test puts this folder on PYTHONPATH, so every Python process it starts, the model's worker
process included, imports this module at start-up: model loading works, and the first decode
reads address 0, a real SIGSEGV in that process. Nothing in the application knows about it.
"""

import ctypes

try:
    import llama_cpp.llama_cpp as native
except ImportError:  # llama-cpp-python not installed: nothing to break
    native = None


def _faulting_decode(*args):
    ctypes.string_at(0)


if native is not None:
    native.llama_decode = _faulting_decode
