# RUN: tesselc %s --entry stages -D K=1024 | FileCheck %s
# Compile-time while loops, range loops and tuple building pick a configuration.
import tessel.language as T

# CHECK-LABEL: func.func @stages
# CHECK: tile.alloc : memref<64xf32, #tile.scope<shared>>
# CHECK: tile.pipelined {{.+}} stages 4


def stages(K):
    block = 16
    while block * 4 < K // 4:
        block *= 2
    sizes = ()
    for i in range(3):
        sizes = sizes + (block * (i + 1),)
    num = len(sizes) + 1

    @T.prim_func
    def main(X: T.Tensor((K,), "float32")):
        with T.Kernel(1) as bx:
            buf = T.alloc_shared((block,), "float32")
            for k in T.Pipelined(K // block, num_stages=num):
                T.copy(X[k * block], buf)
    return main
