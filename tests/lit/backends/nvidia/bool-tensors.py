# Bool tensors on the cuda target: a bool takes one byte in global memory,
# shared memory and registers (as numpy stores it), so a mask tile of
# 32 x 32 bools is 1,024 bytes of shared memory, copied 16 bytes at a time,
# and read back as "byte != 0". (Byte width 0 divided by zero in this lowering once.)
# RUN: tesselc %s --entry masked_fill -D M=64 -D N=32 --emit ptx,manifest -o %t
# RUN: FileCheck %s --input-file %t/masked_fill.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST --input-file %t/masked_fill.json
# CHECK: ld.global.v4.b32
# CHECK: st.shared.v4.b32
# CHECK: ld.shared.b32
# CHECK: prmt.b32
# CHECK: setp.eq.b32
# CHECK: selp.f32
# MANIFEST: "shared_bytes": 1024,

import tessel
import tessel.language as T


@tessel.jit(out_idx=[-1])
def masked_fill(M, N, block_M=32):
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), Mask: T.Tensor((M, N), "bool"),
             B: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(M, block_M), threads=128) as bx:
            m = T.alloc_shared((block_M, N), "bool")
            T.copy(Mask[bx * block_M, 0], m)
            for i, j in T.Parallel(block_M, N):
                B[bx * block_M + i, j] = T.if_then_else(m[i, j], A[bx * block_M + i, j], -1.0)

    return main
