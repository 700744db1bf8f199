"""Flash-attention throughput on a GPU: Tessel's compiled kernels beside
torch.nn.functional.scaled_dot_product_attention, measured in the same run
(head dim 128; batch 4 x 16 heads x 4096 tokens, and a small shape).

The GPU machine has no LLVM, so the kernels are compiled here first:

    scripts/gpu-artifacts.sh artifacts                 # on the build machine
    python3 benchmarks/gpu_attention.py artifacts      # on the GPU machine

(scripts/gpu-check.sh artifacts builds the runtime and runs every check;
this script needs TESSEL_RUNTIME_LIB pointing at that libtessel_runtime.so.)
Each line: correctness against torch, then TFLOPS (4 * batch * heads *
seq^2 * dim / time) of Tessel and of torch, and their ratio (>1: Tessel
faster). The goal (issue 6) is 80% of FlashAttention-3's published 648
TFLOPS at head dim 128 on an H100, i.e. 518 TFLOPS; the line after the
table says where the large shape stands against it.
"""

import importlib.util
import io
import os
import re
import sys
from contextlib import redirect_stdout

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    "bench_cli", os.path.join(ROOT, "tests", "gpu", "bench_cli.py"))
bench_cli = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_cli)
FA3_PUBLISHED_TFLOPS = 648.0  # H100 SXM, fp16, head dim 128 (REFERENCES.md)


def main():
    directory, check, _ = bench_cli.start(__doc__, prefix="attention_")
    out = io.StringIO()
    status = 0
    with redirect_stdout(out):
        try:
            check.main([directory], only="attention_")
        except SystemExit as e:
            status = e.code or 0
    text = out.getvalue()
    print(text, end="")
    m = re.search(r"attention_b4_h16_s4096_d128\s+\S+\s+rel\.err \S+\s+tessel\s+([0-9.]+) TFLOPS", text)
    if m:
        tflops = float(m.group(1))
        print(f"b4 h16 s4096 d128: {tflops:.1f} TFLOPS = {tflops / FA3_PUBLISHED_TFLOPS:.0%} "
              f"of FlashAttention-3's published {FA3_PUBLISHED_TFLOPS:.0f} (goal: 80%)")
    sys.exit(status)


if __name__ == "__main__":
    main()
