# T.atomic_add's memory_order and return_prev on the cuda target. The tile
# IR carries the order; the PTX is a relaxed atom between device-scope fences
# (a release fences before, an acquire after, seq_cst is fence.sc before),
# since NVPTX drops an atomicrmw's own ordering. The previous value is the
# atom's result. Outside a T.Parallel only thread 0 adds, so asking for the
# previous value there is refused.
# RUN: tesselc %s --entry ordered -D N=256 --emit tile | FileCheck %s --check-prefix=TILE
# RUN: tesselc %s --entry ordered -D N=256 --emit ptx -o %t
# RUN: FileCheck %s --input-file %t/ordered.ptx
# RUN: not tesselc %s --entry ticket -D N=256 --emit ptx 2>&1 | FileCheck %s --check-prefix=SCALAR
# TILE: tile.atomic_add {{.*}} {memory_order = "release"} : memref<1xi32, #tile.scope<global>>{{$}}
# TILE: tile.atomic_add {{.*}} {memory_order = "acquire"} : memref<1xi32, #tile.scope<global>> -> i32
# TILE: tile.atomic_add {{.*}} {memory_order = "seq_cst"} : memref<1xi32, #tile.scope<global>>{{$}}
# TILE: tile.atomic_add {{.*}} : memref<256xf32, #tile.scope<global>>{{$}}
# CHECK: fence.acq_rel.gpu;
# CHECK-NEXT: atom.global.add.u32
# CHECK-NOT: fence
# CHECK: atom.global.add.u32 [[OLD:%r[0-9]+]],
# CHECK-NEXT: fence.acq_rel.gpu;
# CHECK: fence.sc.gpu;
# CHECK-NEXT: atom.global.add.u32
# CHECK-NEXT: fence.acq_rel.gpu;
# CHECK: atom.global.add.f32
# SCALAR: atomic-order.py:[[@LINE+27]]:21: error: T.atomic_add(..., return_prev=True) outside a T.Parallel is not supported on the cuda target yet

import tessel
import tessel.language as T


def ordered(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), C: T.Tensor((1,), "int32"),
             S: T.Tensor((N,), "int32")):
        with T.Kernel(T.ceildiv(N, 128), threads=128) as bx:
            for i in T.Parallel(128):
                T.atomic_add(C[0], 1, memory_order="release")
            for i in T.Parallel(128):
                S[bx * 128 + i] = T.atomic_add(C[0], 1, memory_order="acquire", return_prev=True)
            for i in T.Parallel(128):
                T.atomic_add(C[0], 1, memory_order="seq_cst")
            for i in T.Parallel(128):
                T.atomic_add(A[bx * 128 + i], 1.0)

    return main


def ticket(N):
    @T.prim_func
    def main(C: T.Tensor((1,), "int32"), S: T.Tensor((N,), "int32")):
        with T.Kernel(N, threads=128) as bx:
            S[bx] = T.atomic_add(C[0], 1, return_prev=True)

    return main
