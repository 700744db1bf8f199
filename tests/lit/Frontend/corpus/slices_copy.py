# RUN: tesselc %s --entry gather_heads -D b=2 -D s=256 -D h=8 -D d=576 | FileCheck %s
# Slices in T.copy: unit dimensions drop, slice extents come from the bounds.
import tessel.language as T

# CHECK-LABEL: func.func @gather_heads
# CHECK: tile.copy %arg0[%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] [1, 64, 1, 576] to %{{.+}}[%{{.+}}, %{{.+}}] [64, 576] : memref<2x256x8x576xbf16, #tile.scope<global>> to memref<64x576xbf16, #tile.scope<shared>>
# CHECK: tile.copy {{.+}} [64, 512] to {{.+}} [1, 64, 1, 512]


def gather_heads(b, s, h, d, n=64):
    @T.prim_func
    def main(K: T.Tensor((b, s, h, d), "bfloat16"), O: T.Tensor((b, s, h, 512), "bfloat16")):
        with T.Kernel(s // n, h, b) as (i, hh, bb):
            K_s = T.alloc_shared((n, d), "bfloat16")
            T.copy(K[bb, i * n:(i + 1) * n, hh, :], K_s)
            T.copy(K_s[:, 0:512], O[bb, i * n:(i + 1) * n, hh, 0:512])
    return main
