# A pipelined loop directly under a top-level `if` is warp-specialized when
# the producer can evaluate the condition too: here an element of a tensor
# the kernel only reads. The producer loads it, branches like the consumers,
# and feeds the loop on the taken branch. When the kernel also writes that
# tensor, the producer could read a different value: the loop keeps one
# role (TMA from thread 0, no setmaxnreg).
# REQUIRES: ptxas
# RUN: rm -rf %t && tesselc %s --entry skip_blocks -D writes=False --emit ptx,manifest -o %t/ro
# RUN: FileCheck %s --check-prefix=WS < %t/ro/skip_blocks.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/ro/skip_blocks.json
# RUN: tesselc %s --entry skip_blocks -D writes=True --emit ptx -o %t/rw
# RUN: FileCheck %s --check-prefix=ONEROLE < %t/rw/skip_blocks.ptx
# WS: wgmma.mma_async
# WS: setmaxnreg.dec.sync.aligned.u32 40;
# The producer reads Flags[by], tests it, and only then loads tiles.
# WS: ld.global.{{[bs]}}32
# WS: setp.{{.*}}
# WS: @%p{{[0-9]+}} bra
# WS: mbarrier.try_wait.parity
# WS: cp.async.bulk.tensor.2d
# MANIFEST: "spill_bytes": 0,
# MANIFEST: "warp_specialized": {"producer_threads": 128,
# ONEROLE-NOT: setmaxnreg
# ONEROLE: cp.async.bulk.tensor.2d
# ONEROLE-NOT: setmaxnreg
import tessel
import tessel.language as T


@tessel.jit
def skip_blocks(writes, M=512, N=512, K=512, block=128):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((N, K), "float16"),
             Flags: T.Tensor((M // block,), "int32"), C: T.Tensor((M, N), "float16")):
        with T.Kernel(N // block, M // block, threads=128) as (bx, by):
            A_s = T.alloc_shared((block, 64), "float16")
            B_s = T.alloc_shared((block, 64), "float16")
            acc = T.alloc_fragment((block, block), "float32")
            if Flags[by] > 0:
                T.clear(acc)
                for k in T.Pipelined(K // 64, num_stages=3):
                    T.copy(A[by * block, k * 64], A_s)
                    T.copy(B[bx * block, k * 64], B_s)
                    T.gemm(A_s, B_s, acc, transpose_B=True)
                T.copy(acc, C[by * block, bx * block])
            if writes:
                Flags[by] = 0

    return main
