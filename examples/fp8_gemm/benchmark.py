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
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    spec = importlib.util.spec_from_file_location(
        "check_artifacts", os.path.join(ROOT, "tests", "gpu", "check_artifacts.py"))
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    check.main([sys.argv[1]], only="fp8_gemm_")


if __name__ == "__main__":
    main()
