"""Time Tessel's frontend (parse, evaluate, emit tile IR, verify) on the
FlashAttention and GEMM examples. Prints the median of repeated runs.

    python3 benchmarks/frontend_time.py [--repeat 50]
"""

import argparse
import inspect
import os
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))

from tessel import _tessel  # noqa: E402


def request_for(path, entry, args):
    req = _tessel.KernelRequest()
    with open(path) as f:
        req.source = f.read()
    req.file = path
    req.entry = entry
    req.args = list(args.items())
    return req


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    opts = parser.parse_args()
    cases = [
        ("flash_attention (b=1, h=8, s=1024, d=128)",
         request_for(os.path.join(REPO, "examples/flash_attention/flash_attention.py"),
                     "flash_attention",
                     {"batch": "1", "heads": "8", "seq_len": "1024", "dim": "128"})),
        ("gemm 4096^3",
         request_for(os.path.join(REPO, "examples/gemm/gemm.py"), "matmul",
                     {"M": "4096", "N": "4096", "K": "4096"})),
    ]
    for name, req in cases:
        times = []
        for _ in range(opts.repeat):
            start = time.perf_counter()
            result, _ = _tessel.compile_kernel_to_tile(req)
            times.append(time.perf_counter() - start)
            assert result.ok, result.diagnostics
        print("%-45s frontend median %.2f ms (min %.2f ms, %d runs)"
              % (name, statistics.median(times) * 1e3, min(times) * 1e3, len(times)))


if __name__ == "__main__":
    main()
