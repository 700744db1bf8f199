"""Fidelity of a CUDA driver library against the PTX ISA (see fidelity/README.md).

TESSEL_FIDELITY_DRIVER  the library to test (default: Tessel's emulator,
                        $TESSEL_BUILD_DIR/lib/libtessel_emu.so); libcuda.so.1
                        runs the same cases on a GPU.
TESSEL_FIDELITY_SAVE    a directory: every case's outputs are written there
                        as <case>.<output>.npy, to compare two runs.
TESSEL_FIDELITY_PTX_DIR where the build put the kernels' PTX (nvcc -ptx at
                        build time; ctest sets it). Unset, each kernel is
                        compiled on first use and cached under
                        $TESSEL_BUILD_DIR/tests/emulator/ptx.
TESSEL_BUILD_DIR        the build directory (default <repo>/build).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
FIDELITY = os.path.join(HERE, "fidelity")
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, FIDELITY)

import cases as case_table  # noqa: E402
from driver import Driver  # noqa: E402
from harness import check, run_case  # noqa: E402

BUILD = os.environ.get("TESSEL_BUILD_DIR", os.path.join(REPO, "build"))
LIBRARY = os.environ.get("TESSEL_FIDELITY_DRIVER",
                         os.path.join(BUILD, "lib", "libtessel_emu.so"))
SAVE = os.environ.get("TESSEL_FIDELITY_SAVE")
BUILT_PTX = os.environ.get("TESSEL_FIDELITY_PTX_DIR")


def _nvcc():
    found = shutil.which("nvcc")
    if found:
        return found
    default = "/usr/local/cuda/bin/nvcc"
    return default if os.path.exists(default) else None


def _cache_dir():
    path = os.path.join(BUILD, "tests", "emulator", "ptx")
    try:
        os.makedirs(path, exist_ok=True)
        return path
    except OSError:
        return tempfile.mkdtemp(prefix="tessel-fidelity-ptx-")


def _source_hash(src):
    """The .cu and every header beside it (kernels include them)."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(FIDELITY)):
        if name == src or name.endswith(".cuh"):
            with open(os.path.join(FIDELITY, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


_PTX = {}


def _built_ptx(src):
    path = os.path.join(BUILT_PTX, os.path.splitext(src)[0] + ".ptx")
    if not os.path.exists(path):
        pytest.skip(f"{path} was not built: nvcc was not found when Tessel was configured")
    with open(path) as f:
        return f.read()


def compile_ptx(src):
    """The kernel's PTX for sm_90a (wgmma and setmaxnreg need the 'a' target):
    the build's, or nvcc -ptx here cached by source hash."""
    if src in _PTX:
        return _PTX[src]
    if BUILT_PTX:
        _PTX[src] = _built_ptx(src)
        return _PTX[src]
    nvcc = _nvcc()
    if nvcc is None:
        pytest.skip("nvcc not found (set PATH or install CUDA): the fidelity kernels are CUDA C++")
    cache, stem = _cache_dir(), os.path.splitext(src)[0]
    out = os.path.join(cache, f"{stem}-{_source_hash(src)}.ptx")
    if not os.path.exists(out):
        tmp = out + f".{os.getpid()}.tmp"
        cmd = [nvcc, "-ptx", "-arch=compute_90a", "-std=c++17", "-I", FIDELITY,
               os.path.join(FIDELITY, src), "-o", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
        os.replace(tmp, out)
        for old in os.listdir(cache):  # PTX of earlier versions of this source
            if old.startswith(stem + "-") and old.endswith(".ptx") and old != os.path.basename(out) \
                    and len(old) == len(os.path.basename(out)):
                os.remove(os.path.join(cache, old))
    with open(out) as f:
        _PTX[src] = f.read()
    return _PTX[src]


@pytest.fixture(scope="session")
def driver():
    if os.sep in LIBRARY and not os.path.exists(LIBRARY):
        pytest.skip(f"driver library {LIBRARY} not found (build Tessel or set TESSEL_FIDELITY_DRIVER)")
    try:
        return Driver(LIBRARY)
    except OSError as e:
        pytest.skip(f"cannot load driver library {LIBRARY}: {e}")


@pytest.fixture(scope="session")
def modules(driver):
    loaded = {}

    def get(src):
        if src not in loaded:
            loaded[src] = driver.load_ptx(compile_ptx(src))
        return loaded[src]
    return get


@pytest.mark.parametrize("case", case_table.CASES, ids=[c.id for c in case_table.CASES])
def test_fidelity(case, driver, modules):
    function = driver.function(modules(case.src), case.kernel)
    expected, outputs = run_case(driver, function, case)
    if SAVE:
        os.makedirs(SAVE, exist_ok=True)
        for name, value in outputs.items():
            np.save(os.path.join(SAVE, f"{case.id}.{name}.npy"), value)
    failures = []
    for name, expect in expected.items():
        try:
            check(name, expect, outputs[name])
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("src", sorted({c.src for c in case_table.CASES}))
def test_ptx_assembles_for_sm90a(src):
    """The kernels must stay valid for the hardware: ptxas accepts them."""
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    if not os.path.exists(ptxas):
        pytest.skip("ptxas not found")
    ptx = compile_ptx(src)
    with tempfile.NamedTemporaryFile("w", suffix=".ptx") as f:
        f.write(ptx)
        f.flush()
        proc = subprocess.run([ptxas, "-arch=sm_90a", f.name, "-o", os.devnull],
                              capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr, proc.stderr  # e.g. setmaxnreg ignored


def test_case_ids_unique():
    ids = [c.id for c in case_table.CASES]
    assert len(ids) == len(set(ids))
