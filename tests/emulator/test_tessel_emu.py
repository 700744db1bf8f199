"""tessel-emu: a kernel tesselc compiled, run from its manifest and .npy
files, its written tensors saved as .npy; the options reach the emulator;
bad arguments are located errors with exit status 1."""

import os
import subprocess

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("TESSEL_BUILD_DIR", os.path.join(REPO, "build"))
TESSELC = os.path.join(BUILD, "bin", "tesselc")
TESSEL_EMU = os.path.join(BUILD, "bin", "tessel-emu")


def run(*args, check=True):
    env = dict(os.environ, TESSEL_CUDA_DRIVER="emu")
    result = subprocess.run([TESSEL_EMU, *map(str, args)], capture_output=True, text=True,
                            env=env)
    if check and result.returncode:
        raise AssertionError(result.stdout + result.stderr)
    return result


@pytest.fixture(scope="module")
def gemm(tmp_path_factory):
    """gemm_dynamic_m (dynamic M, N = K = 256) compiled, and inputs for m = 100."""
    out = tmp_path_factory.mktemp("gemm")
    subprocess.run([TESSELC, os.path.join(REPO, "tests/lit/Frontend/corpus/gemm_dynamic_m.py"),
                    "--entry", "gemm_dyn", "-D", "N=256", "-D", "K=256", "--emit", "ptx,manifest",
                    "-o", str(out)], check=True, capture_output=True)
    a = (np.arange(100 * 256) % 7 - 3).astype(np.float16).reshape(100, 256)
    b = (np.arange(256 * 256) % 5 - 2).astype(np.float16).reshape(256, 256)
    np.save(out / "A.npy", a)
    np.save(out / "B.npy", b)
    return out, a, b


def test_runs_the_kernel_and_saves_what_it_writes(gemm):
    out, a, b = gemm
    result = run(out / "gemm_dyn.json", out / "A.npy", out / "B.npy", "zeros", "-o", out / "run")
    assert result.stdout == "wrote %s\n" % (out / "run" / "C.npy")
    c = np.load(out / "run" / "C.npy")
    assert c.shape == (100, 256) and c.dtype == np.float16
    np.testing.assert_array_equal(c.astype(np.float32), a.astype(np.float32) @ b.astype(np.float32))


def test_options_reach_the_emulator(gemm):
    out, a, b = gemm
    trace = out / "trace.txt"
    run(out / "gemm_dyn.json", out / "gemm_dyn.ptx", out / "A.npy", out / "B.npy", "zeros",
        "-o", out / "options", "--racecheck", "--seed", "5", "--trace", "1",
        "--trace-file", trace)
    lines = trace.read_text().splitlines()
    assert lines and all(l.startswith("warp ") for l in lines)
    assert any("wgmma.mma_async" in l and "gemm_dynamic_m.py:" in l for l in lines)
    np.testing.assert_array_equal(np.load(out / "options" / "C.npy").astype(np.float32),
                                  a.astype(np.float32) @ b.astype(np.float32))


def _edited_manifest(out, name, edit):
    import json
    import shutil

    manifest = json.loads((out / "gemm_dyn.json").read_text())
    edit(manifest)
    (out / (name + ".json")).write_text(json.dumps(manifest))
    shutil.copy(out / "gemm_dyn.ptx", out / (name + ".ptx"))
    return out / (name + ".json")


def test_the_launch_register_count_reaches_the_emulator(gemm):
    # The manifest's launch descriptor carries the count ptxas chose; told 32,
    # the producer's setmaxnreg.dec to 40 would raise it: the emulator's
    # setmaxnreg check fires, which it can only do knowing the count.
    out, _, _ = gemm

    def low(manifest):
        text = manifest["launch_descriptor"]
        assert "\nregisters %d\n" % manifest["registers"] in text
        manifest["launch_descriptor"] = text.replace(
            "registers %d" % manifest["registers"], "registers 32")

    result = run(_edited_manifest(out, "low_registers", low), out / "A.npy", out / "B.npy",
                 "zeros", "-o", out / "low", check=False)
    assert result.returncode == 1
    assert "setmaxnreg.dec to 40 registers from 32: a decrease may not raise the count" in \
        result.stderr, result.stderr


def test_a_manifest_without_a_launch_descriptor(gemm):
    out, _, _ = gemm
    path = _edited_manifest(out, "old_manifest", lambda m: m.pop("launch_descriptor"))
    result = run(path, out / "A.npy", out / "B.npy", "zeros", "-o", out / "old", check=False)
    assert result.returncode == 1
    assert "has no launch_descriptor: it was written by an older tesselc; compile the kernel " \
        "again" in result.stderr, result.stderr


@pytest.mark.parametrize("args,message", [
    (["A.npy", "B.npy"], "'gemm_dyn' takes 3 arguments, got 2"),
    (["A.npy", "A.npy", "zeros"], "A.npy: dimension 0 is 100, but 'B' has 256"),
    (["missing.npy", "B.npy", "zeros"], "missing.npy: cannot open it"),
    (["zeros", "B.npy", "zeros"], "no tensor argument gives the dynamic dimension 'm'"),
])
def test_bad_arguments(gemm, args, message):
    out, _, _ = gemm
    result = run(out / "gemm_dyn.json", *[out / a if a.endswith(".npy") else a for a in args],
                 "-o", out / "bad", check=False)
    assert result.returncode == 1
    assert "tessel-emu: error: " in result.stderr and message in result.stderr, result.stderr


def _npy(header, data=b"", version=1):
    header = header.encode()
    if version == 1:
        return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data
    return b"\x93NUMPY\x02\x00" + len(header).to_bytes(4, "little") + header + data


@pytest.mark.parametrize("content,message", [
    (b"\x93NUMPY\x02\x00\x05\x00", "a truncated header"),
    (_npy("{'descr': '<f2', 'fortran_order': False, }"), "a header without a shape tuple"),
    (_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (100, x), }"),
     "a shape with an extent that is not a size (x)"),
    (_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (-1, 256), }"),
     "a shape with an extent that is not a size (-1)"),
    (_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
          version=2), "a shape with an extent that is not a size (4294967296)"),
    (_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (100, 256), }", b"\0" * 10),
     "less data than its shape says"),
])
def test_malformed_npy_files(gemm, tmp_path, content, message):
    out, _, _ = gemm
    (tmp_path / "A.npy").write_bytes(content)
    result = run(out / "gemm_dyn.json", tmp_path / "A.npy", out / "B.npy", "zeros",
                 "-o", tmp_path, check=False)
    assert result.returncode == 1
    assert "tessel-emu: error: " in result.stderr and message in result.stderr, result.stderr


def test_a_failing_launch_reports_the_emulators_message(tmp_path):
    # checks.ptx's oob_global reads one float past its 64: tessel-emu exits
    # with the emulator's located message.
    import json
    manifest = {"name": "oob_global", "grid": [1, 1, 1], "threads": 32, "shared_bytes": 0,
                "params": [{"name": "p", "dtype": "float32", "shape": [64], "tensor": True,
                            "written": True}],
                "launch_descriptor": "tessel-aot 1\nkernel oob_global\nthreads 32\nshared 0\n"
                                     "grid 1 1 1\nparam p tensor float32 1 64\n"}
    (tmp_path / "oob_global.json").write_text(json.dumps(manifest))
    np.save(tmp_path / "p.npy", np.zeros(64, np.float32))
    result = run(tmp_path / "oob_global.json", os.path.join(REPO, "tests/emulator/checks/checks.ptx"),
                 tmp_path / "p.npy", "-o", tmp_path, check=False)
    assert result.returncode == 1
    assert "tessel-emu: error: running 'oob_global': a CUDA driver call failed" in result.stderr
    assert "(kernel.py:11): global memory access of 4 bytes at " in result.stderr
    assert "is outside every allocation (0 bytes past the end of the 256-byte allocation" in \
        result.stderr


def test_help():
    result = run("--help")
    assert "tessel-emu NAME.json [NAME.ptx] ARG... -o DIR" in result.stdout
    for option in ("--racecheck", "--seed", "--trace", "--trace-file", "-o"):
        assert option in result.stdout
