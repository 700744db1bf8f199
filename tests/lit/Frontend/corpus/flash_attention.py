# RUN: tesselc %S/../../../../examples/flash_attention/flash_attention.py --entry flash_attention -D batch=2 -D heads=4 -D seq_len=256 -D dim=64 | FileCheck %s
# RUN: tesselc %S/../../../../examples/flash_attention/flash_attention.py --entry flash_attention -D batch=1 -D heads=2 -D seq_len=128 -D dim=128 -D is_causal=True | FileCheck %s --check-prefix=CAUSAL
# RUN: tesselc %S/../../../../examples/flash_attention/flash_attention.py --entry flash_attention -D batch=1 -D heads=2 -D seq_len=256 -D dim=128 | tessel-opt --tile-infer-layouts --tile-plan-memory | FileCheck %s --check-prefix=PLAN
# FlashAttention forward (the example), plain and causal; and its layouts and
# shared memory: every fragment gets a layout, 3 shared tiles fit.

# CHECK-LABEL: func.func @flash_attention
# CHECK-SAME: memref<2x256x4x64xf16, #tile.scope<global>>
# CHECK: tile.kernel grid(%{{.+}}, %{{.+}}, %{{.+}}) threads(128)
# CHECK: tile.copy {{.+}} [1, 64, 1, 64] to {{.+}} [64, 64] : memref<2x256x4x64xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
# CHECK: tile.fill
# CHECK: tile.pipelined {{.+}} stages 2
# CHECK: tile.gemm {{.+}} transpose_b policy full_row
# CHECK: tile.reduce max {{.+}} dim 1 {clear = false}
# CHECK: math.exp2
# CHECK: tile.reduce sum {{.+}} dim 1 :
# CHECK: tile.gemm {{.+}} policy full_row : memref<64x64xf16, #tile.scope<fragment>>
# CHECK: arith.divf

# PLAN-LABEL: func.func @flash_attention
# PLAN: tile.kernel {{.+}} attributes {tessel.shared_bytes = 49152 : i64}
# PLAN-NOT: tile.alloc : memref<{{.+}}#tile.scope<fragment>>
# PLAN: tile.alloc {layout = #tile.fragment<map = (d0, d1) -> {{.+}}, threads = 128>} : memref<64x64xf32
# PLAN-NOT: tile.alloc : memref<{{.+}}#tile.scope<fragment>>

# CAUSAL-LABEL: func.func @flash_attention
# CAUSAL: arith.minsi
# CAUSAL: tile.pipelined
# CAUSAL: arith.cmpi sge
# CAUSAL: arith.select
