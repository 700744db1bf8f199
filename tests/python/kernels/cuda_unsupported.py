"""A kernel the cuda target refuses (T.print), for the located-error test."""
import tessel
import tessel.language as T


@tessel.jit
def prints(N):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            X[0] = 1.0
            T.print(X[0])
    return main
