# The acceptance on the test corpus: GEMM (fp16, bf16, fp8) and
# flash attention (plain and causal), compiled for sm_90a with the defaults,
# load their pipelined tiles with TMA (cp.async.bulk.tensor completing on
# mbarriers) from a producer warpgroup that gives up registers
# (setmaxnreg.dec); ptxas assembles them without spilling, at the register
# count the split was planned for (tesselc checks it after ptxas).
# REQUIRES: ptxas
# RUN: rm -rf %t && mkdir -p %t
# RUN: tesselc %S/../../Frontend/corpus/gemm_fp16.py --entry matmul -D M=1024 -D N=1024 -D K=1024 --emit ptx,manifest -o %t/fp16
# RUN: FileCheck %s --check-prefixes=CHECK,ONEWG < %t/fp16/matmul.ptx
# RUN: FileCheck %s --check-prefix=ALLTMA < %t/fp16/matmul.ptx
# RUN: FileCheck %s --check-prefix=NOCOPY < %t/fp16/matmul.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/fp16/matmul.json
# RUN: tesselc %S/../../Frontend/corpus/gemm_bf16_transpose_b.py --entry matmul_nt -D M=512 -D N=256 -D K=256 -D dtype=bfloat16 --emit ptx,manifest -o %t/bf16
# RUN: FileCheck %s --check-prefixes=CHECK,TWOWG < %t/bf16/matmul_nt.ptx
# RUN: FileCheck %s --check-prefixes=MANIFEST,MANIFEST2 < %t/bf16/matmul_nt.json
# RUN: tesselc %S/../../Frontend/corpus/gemm_fp8_block_scaled.py --entry fp8_gemm -D M=256 -D N=256 -D K=512 --emit ptx,manifest -o %t/fp8
# RUN: FileCheck %s --check-prefixes=CHECK,TWOWG < %t/fp8/fp8_gemm.ptx
# RUN: FileCheck %s --check-prefixes=MANIFEST,MANIFEST2 < %t/fp8/fp8_gemm.json
# RUN: tesselc %S/../../../../examples/flash_attention/flash_attention.py --entry flash_attention -D batch=1 -D heads=8 -D seq_len=1024 -D dim=128 --emit ptx,manifest -o %t/fa
# RUN: FileCheck %s --check-prefixes=CHECK,ONEWG,ATTN < %t/fa/flash_attention.ptx
# RUN: FileCheck %s --check-prefix=NAMED < %t/fa/flash_attention.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/fa/flash_attention.json
# RUN: tesselc %S/../../../../examples/flash_attention/flash_attention.py --entry flash_attention -D batch=1 -D heads=2 -D seq_len=512 -D dim=128 -D is_causal=True --emit ptx,manifest -o %t/causal
# RUN: FileCheck %s --check-prefixes=CHECK,ONEWG,ATTN < %t/causal/flash_attention.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/causal/flash_attention.json
#
# One block per SM: ptxas gives every thread all it can.
# CHECK: .minnctapersm 1
# Thread 0 creates the stage barriers; the whole block waits for them.
# CHECK: mbarrier.init.shared::cta.b64
# CHECK: fence.mbarrier_init.release.cluster;
# CHECK: bar.sync 0;
# With two consumer warpgroups (384 threads, 168 registers each at
# launch) the consumers take what the producer gives up; with one (256
# threads, 255 each) there is nothing more to take.
# TWOWG: setmaxnreg.inc.sync.aligned.u32 232;
# ONEWG-NOT: setmaxnreg.inc
# The consumers: wait for the stage, compute, release it; they synchronize
# among themselves only (named barrier 1: attention's Q tile is copied by
# the consumers before the loop), never with barrier 0.
# (LLVM places the loop's blocks in any order.)
# CHECK-DAG: mbarrier.try_wait.parity.shared::cta.b64
# CHECK-DAG: wgmma.mma_async.sync.aligned
# CHECK-DAG: mbarrier.arrive.shared::cta.b64
# CHECK-NOT: bar.sync 0;
# NAMED: bar.sync 0;
# NAMED: bar.sync 1, 128;
# The fp16 GEMM (A @ B: B read MN-major in place) loads both tiles by TMA,
# two boxes for B's 128 columns: the consumers copy nothing, so they never
# synchronize, and each iteration waits only for the previous one's wgmma
# group before releasing its stage, keeping one group in flight.
# ALLTMA: bar.sync 0;
# ALLTMA-NOT: bar.sync
# ALLTMA: wgmma.wait_group.sync.aligned 1;
# ALLTMA-COUNT-3: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
# ALLTMA-NOT: bar.sync
# NOCOPY-NOT: ld.global
# NOCOPY-NOT: st.shared
# The producer.
# CHECK: setmaxnreg.dec.sync.aligned.u32 40;
# CHECK: mbarrier.try_wait.parity.shared::cta.b64
# CHECK: mbarrier.arrive.expect_tx.shared::cta.b64
# ATTN: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
# CHECK: cp.async.bulk.tensor.{{[24]}}d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
#
# MANIFEST: "threads": {{256|384}},
# MANIFEST: "spill_bytes": 0,
# MANIFEST: "tensor_maps": [
# MANIFEST: "warp_specialized": {"producer_threads": 128,
# MANIFEST2-SAME: "registers_at_launch": 168, "producer_registers": 40, "consumer_registers": 232}
