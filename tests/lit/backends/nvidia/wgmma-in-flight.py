# A warp-specialized GEMM whose operands all arrive by TMA (A @ B^T, both
# K-major) keeps one iteration's wgmmas in flight: the consumers wait for
# all but the latest group (wait_group 1) and only then release the previous
# iteration's stage to the producer; after the loop they wait for
# everything and release the last stage. (A @ B still waits for zero groups
# each iteration: its B tile is MN-major and copied by the consumers, into
# bytes the previous wgmma reads; docs/nvidia-backend.md, "Limits today".)
# RUN: rm -rf %t && mkdir -p %t
# RUN: tesselc %S/../../Frontend/corpus/gemm_bf16_transpose_b.py --entry matmul_nt -D M=512 -D N=256 -D K=256 -D dtype=bfloat16 --emit ptx -o %t/nt
# RUN: FileCheck %s < %t/nt/matmul_nt.ptx
#
# The consumers' loop: wait for the stage's loads, issue, commit, retire the
# previous group (not all of them), release its stage.
# CHECK: setmaxnreg.inc.sync.aligned.u32
# CHECK: mbarrier.try_wait.parity.shared::cta.b64
# CHECK-NOT: wgmma.wait_group.sync.aligned 0;
# CHECK: wgmma.mma_async.sync.aligned.m64n
# CHECK: wgmma.commit_group.sync.aligned;
# CHECK-NOT: wgmma.wait_group.sync.aligned 0;
# CHECK: wgmma.wait_group.sync.aligned 1;
# CHECK-NOT: wgmma.wait_group
# CHECK: mbarrier.arrive.shared::cta.b64 _,
# After the loop: everything retired, the last stage released.
# CHECK: wgmma.wait_group.sync.aligned 0;
# CHECK: mbarrier.arrive.shared::cta.b64 _,
# The producer: both tiles by TMA.
# CHECK: setmaxnreg.dec.sync.aligned.u32
# CHECK: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
# CHECK: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
