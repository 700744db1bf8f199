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


def test_a_failing_launch_reports_the_emulators_message(tmp_path):
    # checks.ptx's oob_global reads one float past its 64: tessel-emu exits
    # with the emulator's located message.
    import json
    manifest = {"name": "oob_global", "grid": [1, 1, 1], "threads": 32, "shared_bytes": 0,
                "params": [{"name": "p", "dtype": "float32", "shape": [64], "tensor": True,
                            "written": True}]}
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
