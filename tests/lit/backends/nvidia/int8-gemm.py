# int8 x int8 gemms accumulate exactly in int32 with s8 wgmma (K steps of
# 32, K-major operands; integer wgmma has only the scale-d flag, no operand
# scales or transpose flags). The corpus kernel's B is [K, N] (MN-major), so
# the consumers store it K-major; ptxas assembles it without spilling.
# REQUIRES: ptxas
# RUN: rm -rf %t && tesselc %S/../../Frontend/corpus/gemm_int8.py --entry gemm_i8 -D M=256 -D N=256 -D K=256 --emit ptx,manifest -o %t
# RUN: FileCheck %s < %t/gemm_i8.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/gemm_i8.json
# CHECK: .visible .entry gemm_i8(
# CHECK: wgmma.mma_async.sync.aligned.m64n64k32.s32.s8.s8 {%r{{[0-9]+}}, {{.+}}}, da, db, first;
# CHECK-NEXT: add.s64 db, %rd{{[0-9]+}}, {{[0-9]+}};
# CHECK: wgmma.mma_async.sync.aligned.m64n64k32.s32.s8.s8 {%r{{[0-9]+}}, {{.+}}}, da, db, rest;
# CHECK-NOT: .f32.s8
# MANIFEST: "spill_bytes": 0,
