# --fast-math (TileLang's TL_ENABLE_FAST_MATH) turns IEEE division into the
# GPU's approximate one; without it division rounds as IEEE requires.
# RUN: tesselc %s --entry scale -D N=256 --emit ptx | FileCheck %s --check-prefix=IEEE
# RUN: tesselc %s --entry scale -D N=256 --emit ptx --fast-math | FileCheck %s --check-prefix=FAST
# IEEE: div.rn.f32
# IEEE-NOT: div.approx
# FAST: div.approx.f32
# FAST-NOT: div.rn.f32

import tessel
import tessel.language as T


def scale(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32"),
             C: T.Tensor((N,), "float32")):
        with T.Kernel(N // 128, threads=128) as bx:
            for i in T.Parallel(128):
                C[bx * 128 + i] = A[bx * 128 + i] / B[bx * 128 + i]
    return main
