"""The real local-model worker with a native fault on its first decode, as a llama.cpp build
with CPU instructions the machine cannot run behaves (the AMX kernels: SIGSEGV on the first
``llama_decode``). Run as ``python tests/crashing_worker.py`` in place of the worker module."""

from __future__ import annotations

import ctypes

import llama_cpp.llama_cpp as native

from assistant.local_model import worker


def _faulting_decode(*args):
    ctypes.string_at(0)  # a read of address 0: a real SIGSEGV in this process


native.llama_decode = _faulting_decode

if __name__ == "__main__":
    worker.main()
