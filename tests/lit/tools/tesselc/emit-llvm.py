# --emit llvm: the optimized NVPTX LLVM IR the PTX is generated from (to
# stdout here), with Tessel's data layout: 32-bit shared-memory pointers
# (p3:32:32), one register per live shared address.
# RUN: tesselc %S/../../../../examples/gemm/gemm.py --entry matmul -D M=256 -D N=256 -D K=256 --emit llvm | FileCheck %s
# RUN: not tesselc %S/../../../../examples/gemm/gemm.py --entry matmul -D M=256 -D N=256 -D K=256 --emit llvm,nope 2>&1 | FileCheck %s --check-prefix=KINDS
# CHECK: target datalayout = "e-p3:32:32
# CHECK: target triple = "nvptx64-nvidia-cuda"
# CHECK: define {{.*}}void @matmul(
# CHECK: wgmma.mma_async
# KINDS: unknown --emit kind 'nope' (known: tile, cpu-llvm, llvm, ptx, cubin, fatbin, manifest, header, object, static-lib)
