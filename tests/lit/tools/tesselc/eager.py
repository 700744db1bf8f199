# tesselc compiles an eager-style entry (the function is the kernel): -D
# gives its T.const sizes and its compile-time parameters; the annotated
# tensors come first, then the returned T.empty outputs (tessel.outputs).
# RUN: tesselc %s --entry scale -D M=64 -D N=32 --emit tile | FileCheck %s
# RUN: tesselc %s --entry scale -D M=64 -D N=32 -D factor=3.0 --emit tile | FileCheck %s --check-prefix=FACTOR
# RUN: not tesselc %s --entry scale -D M=64 2>&1 | FileCheck %s --check-prefix=MISSING
# RUN: tesselc %s --entry rows -D N=16 --emit tile | FileCheck %s --check-prefix=DYN

# CHECK-LABEL: func.func @scale(%arg0: memref<64x32xf32, #tile.scope<global>>, %arg1: memref<64x32xf32, #tile.scope<global>>, %arg2: memref<64xf32, #tile.scope<global>>)
# CHECK-SAME: tessel.arg_names = ["X", "Y", "S"]
# CHECK-SAME: tessel.outputs = array<i64: 1, 2>
# CHECK: arith.constant 2.000000e+00 : f32
# FACTOR: arith.constant 3.000000e+00 : f32
# MISSING: eager.py:22:20: error: T.const 'N' has no value

import tessel
import tessel.language as T


@tessel.jit
def scale(X, factor=2.0, block=32):
    M, N = T.const("M, N")
    X: T.Tensor((M, N), "float32")
    Y = T.empty((M, N), "float32")
    S = T.empty((M,), "float32")
    with T.Kernel(T.ceildiv(M, block), threads=128) as bx:
        for i, j in T.Parallel(block, N):
            Y[bx * block + i, j] = X[bx * block + i, j] * factor
        for i in T.Parallel(block):
            S[bx * block + i] = X[bx * block + i, 0]
    return Y, S


# DYN-LABEL: func.func @rows(%arg0: memref<?x16xf32, #tile.scope<global>>, %arg1: memref<?xf32, #tile.scope<global>>)
# DYN-SAME: tessel.dynamic_dims = {{\[\["n", ""\], \["n"\]\]}}
@tessel.jit
def rows(X):
    n = T.dynamic("n")
    N = T.const("N")
    X: T.Tensor((n, N), "float32")
    R = T.empty((n,), "float32")
    with T.Kernel(n, threads=32) as r:
        R[r] = X[r, 0]
    return R
