"""How fast the Hopper emulator runs Tessel's kernels: wall time per launch
and emulated thread-instructions per second, for GEMM 1024^3 (fp16,
warp-specialized, TMA) and FlashAttention 1x8x1024x128, compiled once
before they are timed.

    python3 benchmarks/emulator.py [--repeat N] [--threads N]

--threads sets TESSEL_EMU_THREADS (blocks run in parallel on that many host
threads; 1 by default, the figure the issue's budget is about: one core).
"""

import argparse
import ctypes
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "examples"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed launches per kernel")
    parser.add_argument("--threads", type=int, default=1, help="host threads for blocks")
    args = parser.parse_args(argv)
    os.environ["TESSEL_CUDA_DRIVER"] = "emu"
    os.environ["TESSEL_EMU_THREADS"] = str(args.threads)

    import tessel
    from flash_attention.flash_attention import flash_attention
    from gemm.gemm import matmul
    from tessel import _cuda

    emu = ctypes.CDLL(_cuda.driver_path())
    emu.tesselEmuLastLaunchStats.argtypes = [ctypes.POINTER(ctypes.c_uint64),
                                            ctypes.POINTER(ctypes.c_double)]
    rng = np.random.default_rng(0)
    cases = []
    gemm = tessel.jit(out_idx=[-1], target="cuda")(matmul.fn)(1024, 1024, 1024)
    a = rng.standard_normal((1024, 1024)).astype(np.float16)
    b = rng.standard_normal((1024, 1024)).astype(np.float16)
    cases.append(("gemm 1024^3 fp16 (TMA, warp-specialized)", gemm, (a, b)))
    attention = tessel.jit(out_idx=[-1], target="cuda")(flash_attention.fn)(1, 8, 1024, 128)
    q, k, v = (rng.standard_normal((1, 1024, 8, 128)).astype(np.float16) for _ in range(3))
    cases.append(("flash attention 1x8x1024x128 fp16", attention, (q, k, v)))

    print("emulator, %d host thread(s); median of %d launches" % (args.threads, args.repeat))
    print("%-42s %10s %16s %14s" % ("kernel", "wall s", "instructions", "instr/s"))
    for name, kernel, inputs in cases:
        kernel._cuda()  # compiled (and cached) before timing
        walls, launch = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            kernel(*inputs)
            walls.append(time.perf_counter() - start)
            count, seconds = ctypes.c_uint64(), ctypes.c_double()
            emu.tesselEmuLastLaunchStats(ctypes.byref(count), ctypes.byref(seconds))
            launch.append((count.value, seconds.value))
        count = launch[0][0]
        seconds = statistics.median(s for _, s in launch)
        print("%-42s %10.2f %16d %14.3g" % (name, statistics.median(walls), count,
                                             count / seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
