#!/bin/sh
# The CMake flags that llama-cpp-python is compiled with (Makefile: `make install`).
#
# Never llama.cpp's default -march=native: on CPUs that advertise AMX it compiles the AMX matmul
# kernels, which crash with SIGSEGV on the first decode. Instead the instruction sets are named
# one by one, from those this CPU has, and AMX is never among them. The flags are part of the key
# of the wheel folder, so a wheel built for another CPU (or with other flags) is never reused.
# Usage: tools/llama_build_flags.sh [CPUINFO-FILE]
cpuinfo=${1:-/proc/cpuinfo}
flags=" $(grep -m1 '^flags' "$cpuinfo" 2>/dev/null | cut -d: -f2) "
has() { for f in "$@"; do case "$flags" in *" $f "*) ;; *) return 1 ;; esac; done; }

# No multimodal projector (unused here; a quarter of the build), no tests or examples.
out="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
out="$out -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
if [ "$(uname -m)" = x86_64 ] || [ "$cpuinfo" != /proc/cpuinfo ]; then
  on() { out="$out -DGGML_$1=ON"; }
  off() { out="$out -DGGML_$1=OFF"; }
  if has sse4_2; then on SSE42; else off SSE42; fi
  if has avx; then on AVX; else off AVX; fi
  if has avx2 fma f16c; then on AVX2; on FMA; on F16C; else off AVX2; off FMA; off F16C; fi
  if has bmi2; then on BMI2; else off BMI2; fi
  if has avx512f avx512cd avx512vl avx512dq avx512bw; then
    on AVX512
    if has avx512vbmi; then on AVX512_VBMI; fi
    if has avx512_vnni; then on AVX512_VNNI; fi
    if has avx512_bf16; then on AVX512_BF16; fi
  elif has avx_vnni; then
    on AVX_VNNI
  fi
fi
echo "$out"
