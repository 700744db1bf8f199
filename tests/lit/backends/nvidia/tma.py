# TMA without warp specialization (--warp-specialize=false): the pipelined,
# K-major tiles of the fp8 block-scaled GEMM (A [M, K] and B [N, K]) are
# loaded by TMA. The kernel
# takes one 128-byte descriptor per tile after its tensors (by value,
# __grid_constant__, read in place through cvta.param); thread 0 sets up a
# barrier per stage, announces each stage's bytes and issues the loads;
# every thread waits on the stage's barrier phase. The manifest says which
# descriptor the launcher must encode for which tensor.
# RUN: rm -rf %t && tesselc %S/../../Frontend/corpus/gemm_fp8_block_scaled.py --entry fp8_gemm -D M=256 -D N=256 -D K=512 --tma --warp-specialize=false --emit ptx,manifest -o %t
# RUN: FileCheck %s < %t/fp8_gemm.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/fp8_gemm.json
# With --tma=false the same kernel uses cp.async and takes no descriptor.
# RUN: tesselc %S/../../Frontend/corpus/gemm_fp8_block_scaled.py --entry fp8_gemm -D M=256 -D N=256 -D K=512 --tma=false --emit ptx,manifest -o %t/plain
# RUN: FileCheck %s --check-prefix=PLAIN < %t/plain/fp8_gemm.ptx
# RUN: FileCheck %s --check-prefix=PLAINMANIFEST < %t/plain/fp8_gemm.json
# CHECK: .param .align 64 .b8 fp8_gemm_param_5[128],
# CHECK: .param .align 64 .b8 fp8_gemm_param_6[128]
# CHECK-NOT: setmaxnreg
# CHECK: mbarrier.init.shared::cta.b64
# CHECK: fence.mbarrier_init.release.cluster;
# CHECK: cvta.param.u64
# CHECK: mbarrier.arrive.expect_tx.shared::cta.b64 _, [%r{{[0-9]+}}], %r{{[0-9]+}};
# CHECK: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
# CHECK: mbarrier.try_wait.parity.shared::cta.b64
# CHECK: wgmma.mma_async.sync.aligned.m64n{{[0-9]+}}k32.f32.e4m3.e4m3
# MANIFEST: "tensor_maps": [
# MANIFEST-NEXT: {"param": 5, "tensor": "A", "box": [128, 128], "swizzle": 128},
# MANIFEST-NEXT: {"param": 6, "tensor": "B", "box": [128, 128], "swizzle": 128}
# PLAIN-NOT: {{cp.async.bulk.tensor|setmaxnreg|mbarrier}}
# PLAIN: cp.async.cg.shared.global
# PLAINMANIFEST-NOT: tensor_maps
