"""GEMM throughput on a GPU: Tessel's compiled kernels beside torch.matmul,
measured in the same run, fp16 and bf16 at 4096^3 and 8192^3.

The GPU machine has no LLVM, so the kernels are compiled here first:

    scripts/gpu-artifacts.sh artifacts            # on the build machine
    python3 benchmarks/gpu_gemm.py artifacts      # on the GPU machine

(scripts/gpu-check.sh artifacts builds the runtime and runs every check;
this script needs TESSEL_RUNTIME_LIB pointing at that libtessel_runtime.so.)
Each line: correctness against torch.matmul, then TFLOPS (2*M*N*K / time)
of Tessel and of torch, and their ratio (>1: Tessel faster).
"""

import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    "bench_cli", os.path.join(ROOT, "tests", "gpu", "bench_cli.py"))
bench_cli = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_cli)


def main():
    directory, check, _ = bench_cli.start(__doc__, prefix="gemm_")
    check.main([directory], only="gemm_")


if __name__ == "__main__":
    main()
