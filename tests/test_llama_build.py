"""The build of llama-cpp-python (`make install`): portable flags named from the CPU's own
instruction sets, never -march=native and never AMX, and a wheel folder keyed by those flags so
that a wheel built with other flags is never reused (pip's own cache is bypassed)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parent.parent

BASE = "fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt"
CPUS = {
    # Sapphire Rapids: AVX-512 and AMX, the CPU whose native build crashes.
    "sapphire-rapids": f"{BASE} avx avx2 fma f16c bmi2 avx512f avx512cd avx512vl avx512dq "
    "avx512bw avx512vbmi avx512_vnni avx512_bf16 amx_tile amx_int8 amx_bf16",
    "haswell": f"{BASE} avx avx2 fma f16c bmi2",
    "alder-lake": f"{BASE} avx avx2 fma f16c bmi2 avx_vnni",
    "old-x86-64": "fpu sse sse2",
}


def _cpuinfo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.cpuinfo"
    path.write_text(
        f"processor\t: 0\nflags\t\t: {CPUS[name]}\n\nprocessor\t: 1\nflags\t\t: {CPUS[name]}\n"
    )
    return path


def _flags(cpuinfo: Path) -> dict[str, str]:
    out = subprocess.run(
        ["sh", str(ROOT / "tools" / "llama_build_flags.sh"), str(cpuinfo)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return dict(re.findall(r"-D(\w+)=(\w+)", out))


@pytest.mark.parametrize("cpu", sorted(CPUS))
def test_never_native_and_never_amx(tmp_path, cpu):
    flags = _flags(_cpuinfo(tmp_path, cpu))
    assert flags["GGML_NATIVE"] == "OFF"
    assert all(flags[f"GGML_AMX_{part}"] == "OFF" for part in ("TILE", "INT8", "BF16"))
    assert not any(k.startswith("GGML_AMX") and v == "ON" for k, v in flags.items())


def test_instruction_sets_follow_the_cpu(tmp_path):
    spr = _flags(_cpuinfo(tmp_path, "sapphire-rapids"))
    assert {
        spr[k] for k in ("GGML_AVX2", "GGML_AVX512", "GGML_AVX512_VNNI", "GGML_AVX512_BF16")
    } == {"ON"}
    haswell = _flags(_cpuinfo(tmp_path, "haswell"))
    assert haswell["GGML_AVX2"] == "ON" and "GGML_AVX512" not in haswell  # no SIGILL there
    assert _flags(_cpuinfo(tmp_path, "alder-lake"))["GGML_AVX_VNNI"] == "ON"
    old = _flags(_cpuinfo(tmp_path, "old-x86-64"))
    assert old["GGML_AVX"] == old["GGML_AVX2"] == old["GGML_SSE42"] == "OFF"


def _make(*args: str) -> str:
    return subprocess.run(
        ["make", "-s", "--no-print-directory", *args],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_the_wheel_folder_is_keyed_by_the_flags(tmp_path):
    folders = {
        cpu: _make("llama-flags", f"CPUINFO={_cpuinfo(tmp_path, cpu)}").split("wheel folder ")[1]
        for cpu in ("sapphire-rapids", "haswell")
    }
    assert folders["sapphire-rapids"] != folders["haswell"]
    assert all(f.startswith(".wheels/llama-cpp-python-0.3.36-") for f in folders.values())


def test_the_build_bypasses_pip_s_wheel_cache_and_installs_the_keyed_wheel(tmp_path):
    cpuinfo = _cpuinfo(tmp_path, "sapphire-rapids")
    folder = _make("llama-flags", f"CPUINFO={cpuinfo}").split("wheel folder ")[1].split(")")[0]
    build = _make("-n", "-B", f"{folder}/.complete", f"CPUINFO={cpuinfo}")
    (line,) = [x for x in build.splitlines() if "pip wheel -q" in x]
    assert "--no-cache-dir" in line and "--no-binary llama-cpp-python" in line
    assert 'CMAKE_ARGS="-DGGML_NATIVE=OFF' in line and "AMX_TILE=OFF" in line
    assert "llama-cpp-python==0.3.36" in line
    pinned = (ROOT / "pyproject.toml").read_text()
    assert '"llama-cpp-python[server]==0.3.36"' in pinned  # the Makefile and pyproject agree
