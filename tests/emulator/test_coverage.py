"""The emulator runs every instruction Tessel emits: the PTX of every kernel
scripts/gpu-artifacts.sh compiles (the examples at their real shapes) and of
the kernels the NVIDIA lit tests compile decodes with no instruction left
unsupported (which would fail a launch that reaches it)."""

import ctypes
import glob
import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("TESSEL_BUILD_DIR", os.path.join(REPO, "build"))
TESSELC = os.path.join(BUILD, "bin", "tesselc")

# Kernels of tests/lit/backends/nvidia beyond the artifacts': (file, entry, defines, flags).
LIT = [
    ("tests/lit/backends/nvidia/print.py", "prints", [], []),
    ("tests/lit/backends/nvidia/dynamic-shapes.py", "scale_rows", [], []),
    ("tests/lit/backends/nvidia/parallel-shared-sync.py", "shift_add", [], []),
    ("tests/lit/backends/nvidia/parallel-shared-sync.py", "gather", [], []),
    ("tests/lit/backends/nvidia/parallel-shared-sync.py", "histogram", [], []),
    ("tests/lit/backends/nvidia/parallel-shared-sync.py", "row_sums", [], []),
    ("tests/lit/backends/nvidia/reduce-many-results.py", "col_sums", [], []),
    ("tests/lit/Frontend/corpus/gemm_dynamic_m.py", "gemm_dyn", ["N=256", "K=256"], []),
    ("tests/lit/Frontend/corpus/gemm_fp16.py", "matmul", ["M=1024", "N=1024", "K=1024"],
     ["--tma=false"]),
]


@pytest.fixture(scope="module")
def ptx_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("ptx")
    env = dict(os.environ, TESSEL_ARTIFACTS_EMIT="ptx,manifest", TESSELC=TESSELC)
    subprocess.run(["bash", os.path.join(REPO, "scripts", "gpu-artifacts.sh"), str(out / "art")],
                   check=True, capture_output=True, env=env)
    for i, (file, entry, defines, flags) in enumerate(LIT):
        cmd = [TESSELC, os.path.join(REPO, file), "--entry", entry, "--emit", "ptx",
               "-o", str(out / ("lit%d" % i))] + flags
        for d in defines:
            cmd += ["-D", d]
        subprocess.run(cmd, check=True, capture_output=True)
    return sorted(glob.glob(str(out / "**" / "*.ptx"), recursive=True))


def test_every_instruction_is_emulated(ptx_files):
    emu = ctypes.CDLL(os.path.join(BUILD, "lib", "libtessel_emu.so"))
    emu.tesselEmuUnsupported.restype = ctypes.c_char_p
    emu.tesselEmuUnsupported.argtypes = [ctypes.c_char_p]
    assert len(ptx_files) >= 40
    missing = {}
    for path in ptx_files:
        with open(path, "rb") as f:
            report = emu.tesselEmuUnsupported(f.read()).decode()
        if report:
            missing[os.path.relpath(path, os.path.dirname(ptx_files[0]))] = report
    assert not missing, missing


def test_the_check_sees_what_is_missing():
    emu = ctypes.CDLL(os.path.join(BUILD, "lib", "libtessel_emu.so"))
    emu.tesselEmuUnsupported.restype = ctypes.c_char_p
    emu.tesselEmuUnsupported.argtypes = [ctypes.c_char_p]
    ptx = open(os.path.join(REPO, "tests", "emulator", "checks", "checks.ptx"), "rb").read()
    report = emu.tesselEmuUnsupported(ptx).decode()
    assert report.count("\n") == 1 and "`mapa.shared::cluster.u32 \t%r2, %r1, 1;`" in report
