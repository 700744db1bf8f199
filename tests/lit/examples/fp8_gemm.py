# examples/fp8_gemm for sm_90a at DeepGEMM's shapes: fp8 wgmma (e4m3 x e4m3
# into f32, K = 32 per instruction), TMA loads (rank 3 for the experts'
# B [G, N, K]), warp-specialized (the grouped kernels' loops sit under an
# `if` on the block's expert, or its row count: the producer reads the same
# element and takes the same branch), and no spills.
# REQUIRES: ptxas
# RUN: rm -rf %t && mkdir -p %t
# RUN: tesselc %S/../../../examples/fp8_gemm/fp8_gemm.py --entry fp8_gemm -D M=4096 -D N=2112 -D K=7168 --emit ptx,manifest -o %t
# RUN: FileCheck %s --check-prefixes=CHECK,WS,PLAIN < %t/fp8_gemm.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/fp8_gemm.json
# RUN: tesselc %S/../../../examples/fp8_gemm/fp8_gemm.py --entry fp8_gemm_grouped -D M=4096 -D N=4096 -D K=7168 -D G=8 --emit ptx,manifest -o %t
# RUN: FileCheck %s --check-prefixes=CHECK,WS,GROUPED < %t/fp8_gemm_grouped.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/fp8_gemm_grouped.json
# RUN: tesselc %S/../../../examples/fp8_gemm/fp8_gemm.py --entry fp8_gemm_masked -D G=8 -D max_m=256 -D N=4096 -D K=7168 --emit ptx,manifest -o %t
# RUN: FileCheck %s --check-prefixes=CHECK,WS,GROUPED < %t/fp8_gemm_masked.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/fp8_gemm_masked.json
# WS: setmaxnreg.inc.sync.aligned.u32 232;
# CHECK: wgmma.mma_async.sync.aligned.m64n{{[0-9]+}}k32.f32.e4m3.e4m3
# WS: setmaxnreg.dec.sync.aligned.u32 40;
# GROUPED: ld.global.{{[bs]}}32
# GROUPED: @%p{{[0-9]+}} bra
# PLAIN: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
# GROUPED: cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
# MANIFEST: "spill_bytes": 0,
# MANIFEST: "tensor_maps": [
