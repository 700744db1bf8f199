"""Small kernels the CPU-backend tests run against numpy."""
import tessel
import tessel.language as T


@tessel.jit(out_idx=[-1], target="cpu")
def vector_add(block=128, dtype="float32"):
    n = T.dynamic("n")

    @T.prim_func
    def main(A: T.Tensor((n,), dtype), B: T.Tensor((n,), dtype), C: T.Tensor((n,), dtype)):
        with T.Kernel(T.ceildiv(n, block), threads=128) as bx:
            a = T.alloc_fragment((block,), dtype)
            b = T.alloc_fragment((block,), dtype)
            T.copy(A[bx * block], a)
            T.copy(B[bx * block], b)
            for i in T.Parallel(block):
                a[i] = a[i] + b[i]
            T.copy(a, C[bx * block])
    return main


@tessel.jit(out_idx=[-1], target="cpu")
def row_softmax(M, N, block_M=16):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), Y: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(M, block_M), threads=128) as bx:
            x = T.alloc_fragment((block_M, N), "float32")
            m = T.alloc_fragment((block_M,), "float32")
            s = T.alloc_fragment((block_M,), "float32")
            T.copy(X[bx * block_M, 0], x)
            T.reduce_max(x, m, dim=1)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = T.exp(x[i, j] - m[i])
            T.reduce_sum(x, s, dim=1)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = x[i, j] / s[i]
            T.copy(x, Y[bx * block_M, 0])
    return main


@T.macro
def scale_tile(buf, rows, cols, factor):
    for i, j in T.Parallel(rows, cols):
        buf[i, j] = buf[i, j] * factor


@tessel.jit(out_idx=[-1], target="cpu")
def scaled_copy(M, N, factor=2.0, twice=True):
    @T.prim_func
    def main(X: T.Tensor((M, N), "bfloat16"), Y: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=32) as bx:
            t = T.alloc_fragment((M, N), "float32")
            T.copy(X, t)
            scale_tile(t, M, N, factor)
            if twice:
                scale_tile(t, M, N, factor)
            T.copy(t, Y)
    return main


@tessel.jit(out_idx=[-1], target="cpu")
def fp8_quantize(M, N):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), Q: T.Tensor((M, N), "float8_e4m3")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.serial(M):
                for j in T.serial(N):
                    Q[i, j] = T.cast(X[i, j], "float8_e4m3")
    return main


@tessel.jit(out_idx=[-1], target="cpu")
def split_k_gemm(M, N, K, splits=4, block=32):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float32"), B: T.Tensor((K, N), "float32"),
             C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, block), T.ceildiv(M, block), splits, threads=128) as (bx, by, bz):
            a = T.alloc_shared((block, K // splits), "float32")
            b = T.alloc_shared((K // splits, block), "float32")
            c = T.alloc_fragment((block, block), "float32")
            T.copy(A[by * block, bz * (K // splits)], a)
            T.copy(B[bz * (K // splits), bx * block], b)
            T.gemm(a, b, c, clear_accum=True)
            T.atomic_add(C[by * block, bx * block], c)
    return main


@tessel.jit(out_idx=[-1], target="cpu")
def scaled_prefix(n=64):
    # Scalar parameters of every kind the C launcher passes, and a bool.
    @T.prim_func
    def main(X: T.Tensor((n,), "float32"), alpha: T.float32, count: T.int32,
             offset: T.int64, beta: T.float64, negate: T.bool, Y: T.Tensor((n,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(n):
                v = X[i] * alpha + T.cast(offset, "float32") + T.cast(beta, "float32")
                Y[i] = T.if_then_else(i < count, T.if_then_else(negate, -v, v), 0.0)

    return main
