# RUN: tesselc %s --entry kernel -D N=64 -D mode='"exp"' | FileCheck %s --check-prefix=EXP
# RUN: tesselc %s --entry kernel -D N=64 -D mode='"log"' | FileCheck %s --check-prefix=LOG
# A factory picks the body with a compile-time if/elif/else.
import tessel.language as T

# EXP-LABEL: func.func @kernel
# EXP: math.exp
# EXP-NOT: math.log
# LOG-LABEL: func.func @kernel
# LOG: math.log
# LOG-NOT: math.exp


def kernel(N, mode="exp"):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32")):
        with T.Kernel(1) as bx:
            for i in T.Parallel(N):
                if mode == "exp":
                    X[i] = T.exp(X[i])
                elif mode == "log":
                    X[i] = T.log(X[i])
                else:
                    X[i] = X[i]
    return main
