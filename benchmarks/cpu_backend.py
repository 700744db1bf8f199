"""Compile and run times of the CPU backend on a 512^3 fp16 GEMM and a
1x8x1024x128 FlashAttention forward, with a numpy reference check.

    python3 benchmarks/cpu_backend.py
"""

import os
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "examples", "gemm"))
sys.path.insert(0, os.path.join(REPO, "examples", "flash_attention"))

import tessel  # noqa: E402
from gemm import matmul  # noqa: E402
from flash_attention import flash_attention  # noqa: E402
from reference import attention  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main():
    rng = np.random.default_rng(0)

    gemm = tessel.jit(out_idx=[-1], target="cpu")(matmul.fn)
    kernel, t_front = timed(lambda: gemm(512, 512, 512))
    _, t_jit = timed(lambda: kernel.get_source("cpu-llvm"))
    a = rng.standard_normal((512, 512)).astype(np.float16)
    b = rng.standard_normal((512, 512)).astype(np.float16)
    c, t_run = timed(lambda: kernel(a, b))
    err = np.abs(c.astype(np.float32) - a.astype(np.float32) @ b.astype(np.float32)).max()
    print("gemm 512^3 fp16:        frontend %.1f ms, LLVM JIT %.0f ms, run %.2f s, max err %.3g"
          % (t_front * 1e3, t_jit * 1e3, t_run, err))

    fa = tessel.jit(out_idx=[-1], target="cpu")(flash_attention.fn)
    kernel, t_front = timed(lambda: fa(1, 8, 1024, 128))
    _, t_jit = timed(lambda: kernel.get_source("cpu-llvm"))
    q, k, v = (rng.standard_normal((1, 1024, 8, 128)).astype(np.float16) for _ in range(3))
    o, t_run = timed(lambda: kernel(q, k, v))
    err = np.abs(o.astype(np.float64) - attention(q, k, v)).max()
    print("flash attn 1x8x1024x128: frontend %.1f ms, LLVM JIT %.0f ms, run %.2f s, max err %.3g"
          % (t_front * 1e3, t_jit * 1e3, t_run, err))


if __name__ == "__main__":
    main()
