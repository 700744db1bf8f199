"""The GPU benchmark and check scripts run on a machine with PyTorch and a
GPU, but their command line works anywhere: --help, and one clear message
with exit status 2 for what is missing (the artifacts, PyTorch, a GPU)."""

import importlib.util
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# (script, where its kernels are under the artifacts directory, name prefix)
SCRIPTS = [
    ("tests/gpu/check_artifacts.py", "", ""),
    ("benchmarks/gpu_gemm.py", "", "gemm_"),
    ("benchmarks/gpu_attention.py", "", "attention_"),
    ("examples/fp8_gemm/benchmark.py", "", "fp8_gemm_"),
    ("examples/mla_decode/benchmark.py", "mla", ""),
    ("examples/sparse_attention/benchmark.py", "sparse", ""),
]


def run(script, *args):
    return subprocess.run([sys.executable, os.path.join(REPO, script), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("script,subdir,prefix", SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_gpu_script_command_line(script, subdir, prefix, tmp_path):
    out = run(script, "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: ") and "artifacts" in out.stdout

    out = run(script)
    assert out.returncode == 2 and "the following arguments are required: artifacts" in out.stderr

    out = run(script, str(tmp_path / "missing"))
    assert out.returncode == 2, out.stderr
    assert "error: no compiled kernels in " in out.stderr
    assert "scripts/gpu-artifacts.sh" in out.stderr
    assert "Traceback" not in out.stderr

    # With kernels present, what is missing next is PyTorch or a GPU.
    kernels = tmp_path / "artifacts" / subdir
    kernels.mkdir(parents=True)
    (kernels / (prefix + "k.json")).write_text("{}")
    if importlib.util.find_spec("torch") is not None:
        pytest.skip("PyTorch is installed here; the GPU run is the GPU machine's")
    out = run(script, str(tmp_path / "artifacts"))
    assert out.returncode == 2, out.stderr
    assert "error: this benchmark needs PyTorch with CUDA" in out.stderr
    assert "Traceback" not in out.stderr
