# The Hopper pipeline's decisions are in the IR a user can print: for flash
# attention, `tesselc --dump-ir-after-all --target sm_90a` shows the MMA
# kind, the pipeline's stages and TMA copies, the producer warpgroup, the
# wgmma waits, the block barriers and the proxy fences, each after the pass
# that decides it.
# RUN: rm -rf %t && mkdir -p %t
# RUN: tesselc %S/../../../../examples/flash_attention/flash_attention.py --entry flash_attention -D batch=1 -D heads=8 -D seq_len=1024 -D dim=128 --target sm_90a --emit ptx -o %t --dump-ir-after-all 2> %t/dump.txt
# RUN: FileCheck %s < %t/dump.txt

# CHECK-LABEL: IR Dump After TileInferLayoutsPass
# CHECK: tile.gemm {{.+}} {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>}
# CHECK-LABEL: IR Dump After NVIDIAPipelineBuffersPass
# CHECK: tile.pipelined {{.+}} attributes {tessel.producer, tessel.stages = 2 : i64, tessel.wgmma_in_flight = 1 : i64}
# CHECK: tile.copy {{.+}} {tessel.ahead, tessel.tma}
# CHECK-LABEL: IR Dump After NVIDIAMmaAsyncPass
# The scores' group is waited for before the softmax reads them.
# CHECK: tile.gemm %{{.+}}, %{{.+}}, %[[S:[0-9]+]] transpose_b
# CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
# CHECK-NEXT: tile.parallel
# CHECK: memref.load %[[S]]
# CHECK-LABEL: IR Dump After NVIDIAInsertBarriersPass
# The threads' copy of Q is read by wgmma in the loop: a barrier before it.
# CHECK: tile.copy {{.+}} : memref<1x1024x8x128xf16, #tile.scope<global>> to memref<64x128xf16, #tile.scope<shared>>
# CHECK: tile.barrier
# CHECK-NEXT: tile.pipelined
# CHECK-LABEL: IR Dump After NVIDIAInsertProxyFencesPass
# ... and that copy is fenced for wgmma's async proxy right after it.
# CHECK: tile.copy {{.+}} : memref<1x1024x8x128xf16, #tile.scope<global>> to memref<64x128xf16, #tile.scope<shared>>
# CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
# CHECK-LABEL: IR Dump After TileLowerToNVVMPass
