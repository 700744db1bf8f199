"""FP8 block-scaled GEMM throughput on a GPU, on DeepGEMM's shapes (DESIGN 5),
beside torch._scaled_mm (per-tensor scales) measured in the same run.

The GPU machine has no LLVM, so the kernels are compiled here first:

    scripts/gpu-artifacts.sh artifacts                     # on the build machine
    python3 examples/fp8_gemm/benchmark.py artifacts       # on the GPU machine

(scripts/gpu-check.sh artifacts builds the runtime; this script needs
TESSEL_RUNTIME_LIB pointing at that libtessel_runtime.so.) Each line:
correctness against the dequantized product, TFLOPS (2*M*N*K / time) of
Tessel and of torch._scaled_mm, and their ratio (>1: Tessel faster).
"""

import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location(
    "bench_cli", os.path.join(ROOT, "tests", "gpu", "bench_cli.py"))
bench_cli = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_cli)


def main():
    directory, check, _ = bench_cli.start(__doc__, prefix="fp8_gemm_")
    check.main([directory], only="fp8_gemm_")


if __name__ == "__main__":
    main()
