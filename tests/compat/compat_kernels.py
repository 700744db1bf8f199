"""Kernels written as TileLang programs are written, with only the import
swapped: each uses TileLang names and idioms that tests/compat checks one by
one (test_language.py, test_api.py) or as whole programs (test_programs.py).
Nothing here is copied from TileLang; the idioms are its public API."""

import math

import tessel as tilelang
import tessel.language as T

# Module-level names used in factory signatures and defaults, as
# production TileLang code does.
FP16 = T.float16
FP32 = "float32"
BLOCK = 32


def _scale_for(n):
    """A plain helper the factory calls at compile time."""
    return 1.0 / math.sqrt(n)


# -- annotations, dtypes, out_idx ----------------------------------------------


@tilelang.jit(out_idx=[-1])
def scale_rows(M, N, dtype=FP16, block_M=BLOCK):
    scale = _scale_for(N)

    @T.prim_func
    def main(A: T.Tensor[(M, N), dtype], B: T.Tensor[(M, N), dtype]):
        with T.Kernel(T.ceildiv(M, block_M), threads=128) as bx:
            for i, j in T.Parallel(block_M, N):
                B[bx * block_M + i, j] = A[bx * block_M + i, j] * scale

    return main


@tilelang.jit(out_idx=3)
def axpy(N, dtype=T.float):
    @T.prim_func
    def main(X: T.Buffer((N,), dtype), Y: T.Buffer((N,), dtype), alpha: T.float,
             Out: T.Buffer((N,), dtype)):
        with T.Kernel(T.ceildiv(N, 128), threads=128) as bx:
            for i in T.Parallel(128):
                if bx * 128 + i < N:
                    Out[bx * 128 + i] = alpha * X[bx * 128 + i] + Y[bx * 128 + i]

    return main


@tilelang.jit(out_idx=0)
def iota_first(N):
    @T.prim_func
    def main(Out: T.Tensor((N,), T.int32), Offset: T.Tensor((1,), T.int32)):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(N):
                Out[i] = i + Offset[0]

    return main


# -- compile-time Python ---------------------------------------------------------


@tilelang.jit(out_idx=[-1])
def padded_copy(N):
    block = tilelang.next_power_of_2(N // 3)
    blocks = tilelang.cdiv(N, block)
    half = int(math.log2(block)) - 1

    @T.prim_func
    def main(A: T.Tensor((N,), FP32), B: T.Tensor((blocks * block,), FP32)):
        with T.Kernel(blocks, threads=64) as bx:
            for i in T.Parallel(block):
                B[bx * block + i] = T.if_then_else(bx * block + i < N, A[bx * block + i] * half, 0)

    return main


# -- the language: variables, scalar helpers, synchronization --------------------


@tilelang.jit(out_idx=[-1])
def scalar_helpers(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), I: T.Tensor((N,), "int32"),
             Out: T.Tensor((N, 6), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(N):
                Out[i, 0] = T.clamp(A[i], -1.0, 1.0)
                Out[i, 1] = T.Cast("float32", T.floordiv(I[i], 3))
                Out[i, 2] = T.cast(T.floormod(I[i], 3), "float32")
                Out[i, 3] = T.Cast(T.float32, (I[i] - 1) % 4)
                Out[i, 4] = T.if_then_else(A[i] > 0, 1, 0.5)
                Out[i, 5] = T.max_value("float16") + T.min_value("int8")

    return main


@tilelang.jit(out_idx=[-1])
def running_max(N, steps=4):
    @T.prim_func
    def main(A: T.Tensor((N, steps), "float32"), Out: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(N):
                best = T.alloc_var("float32", init=-T.infinity("float32"))
                for s in T.serial(steps):
                    best = T.max(best, A[i, s])
                Out[i] = best

    return main


@tilelang.jit(out_idx=[-1])
def reverse_through_shared(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            S = T.alloc_shared((N,), "float32")
            for i in T.Parallel(N):
                S[i] = A[i]
            T.sync_threads()
            for i in T.Parallel(N):
                B[i] = S[N - 1 - i]

    return main


@tilelang.jit(out_idx=[-1])
def float_bits(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N, 2), "int32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(N):
                B[i, 0] = T.reinterpret(A[i], "int32")      # TileLang 0.1.15's order
                B[i, 1] = T.reinterpret("int32", A[i])      # the older (dtype, value)

    return main


# -- the eager style -----------------------------------------------------------------


@tilelang.jit
def eager_add(A, B, block_M=32, block_N=32, dtype=T.float32):
    M, N = T.const("M, N")
    A: T.Tensor((M, N), dtype)
    B: T.Tensor((M, N), dtype)
    C = T.empty((M, N), dtype)
    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
        for i, j in T.Parallel(block_M, block_N):
            if by * block_M + i < M and bx * block_N + j < N:
                C[by * block_M + i, bx * block_N + j] = (A[by * block_M + i, bx * block_N + j] +
                                                         B[by * block_M + i, bx * block_N + j])
    return C


@tilelang.jit
def eager_matmul(A, B, block_M=64, block_N=64, block_K=32, dtype=T.float16,
                 accum_dtype=T.float32):
    M, N, K = T.const("M, N, K")
    A: T.Tensor((M, K), dtype)
    B: T.Tensor((K, N), dtype)
    C = T.empty((M, N), dtype)
    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
        A_shared = T.alloc_shared((block_M, block_K), dtype)
        B_shared = T.alloc_shared((block_K, block_N), dtype)
        C_local = T.alloc_fragment((block_M, block_N), accum_dtype)
        T.clear(C_local)
        for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=2):
            T.copy(A[by * block_M, k * block_K], A_shared)
            T.copy(B[k * block_K, bx * block_N], B_shared)
            T.gemm(A_shared, B_shared, C_local)
        T.copy(C_local, C[by * block_M, bx * block_N])
    return C


@tilelang.jit
def eager_box_filter(data, weights, P=1, block=64):
    # Sizes computed from T.const values before the annotations use them,
    # as a convolution's output extent is.
    N, W, K = T.const("N, W, K")
    OW = W + 2 * P - K + 1
    data: T.Tensor((N, W), "float32")
    weights: T.Tensor((K,), "float32")
    out = T.empty((N, OW), "float32")
    with T.Kernel(N, threads=64) as b:
        for j in T.Parallel(OW):
            acc = T.alloc_var("float32", init=0.0)
            for t in T.serial(K):
                if j + t - P >= 0 and j + t - P < W:
                    acc += data[b, j + t - P] * weights[t]
            out[b, j] = acc
    return out


@tilelang.jit
def eager_rows_sum(X, block_N=16):
    rows = T.dynamic("rows")
    N = T.const("N")
    X: T.Tensor((rows, N), "float32")
    S = T.empty((rows,), "float32")
    with T.Kernel(rows, threads=32) as r:
        acc = T.alloc_var("float32", init=0.0)
        for j in T.serial(N):
            acc += X[r, j]
        S[r] = acc
    return S


# -- device control flow and run-time slices -------------------------------------------


@tilelang.jit(out_idx=[-1])
def collatz_steps(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "int32"), Steps: T.Tensor((N,), "int32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(N):
                v = T.alloc_var("int32", init=A[i])
                count = T.alloc_var("int32", init=0)
                while v > 1:
                    v = T.if_then_else(v % 2 == 0, v // 2, 3 * v + 1)
                    count += 1
                Steps[i] = count

    return main


@tilelang.jit(out_idx=[-1])
def gather_windows(M, N, n=16):
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), Start: T.Tensor((M,), "int32"),
             B: T.Tensor((M, n), "float32")):
        with T.Kernel(M, threads=32) as bx:
            start = Start[bx]
            window = T.alloc_shared((n,), "float32")
            T.copy(A[bx, start:start + n], window)
            for j in T.Parallel(n):
                B[bx, j] = window[j] * 2

    return main


@tilelang.jit(out_idx=[-1])
def column_stats(M, N):
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), Out: T.Tensor((2, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            tile = T.alloc_fragment((M, N), "float32")
            sums = T.alloc_reducer((N,), "float32", op="sum")
            peaks = T.alloc_reducer((N,), "float32", op="max")
            T.copy(A, tile)
            T.fill(sums, 0)
            T.fill(peaks, -T.infinity("float32"))
            for i, j in T.Parallel(M, N):
                sums[j] += tile[i, j]
                peaks[j] = T.max(peaks[j], tile[i, j])
            T.finalize_reducer(sums)
            T.finalize_reducer(peaks)
            for j in T.Parallel(N):
                Out[0, j] = sums[j]
                Out[1, j] = peaks[j]

    return main


@tilelang.jit(out_idx=[-1])
def persistent_scale(M, N, block_M=16, block_N=16, workers=5):
    # A persistent kernel: `workers` blocks walk the tiles in waves.
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32")):
        with T.Kernel(workers, threads=128) as block_id:
            for bx, by in T.Persistent([T.ceildiv(M, block_M), T.ceildiv(N, block_N)],
                                       workers, block_id):
                for i, j in T.Parallel(block_M, block_N):
                    if bx * block_M + i < M and by * block_N + j < N:
                        B[bx * block_M + i, by * block_N + j] = (
                            A[bx * block_M + i, by * block_N + j] * 2 + bx)

    return main


# -- unsigned dtypes ---------------------------------------------------------------------


@tilelang.jit(out_idx=[-2, -1])
def unsigned_ops(N):
    @T.prim_func
    def main(A: T.Tensor((N,), T.uint8), W: T.Tensor((N,), T.uint32), X: T.Tensor((N,), "float32"),
             Out: T.Tensor((N, 7), "float32"), Q: T.Tensor((N,), T.uint8)):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(N):
                Out[i, 0] = T.Cast("float32", A[i])          # 200 is 200.0, not -56
                Out[i, 1] = A[i] // 3                       # unsigned division
                Out[i, 2] = W[i] >> 28                      # a logical shift
                Out[i, 3] = T.if_then_else(A[i] > 127, 1.0, 0.0)  # an unsigned comparison
                Out[i, 4] = T.max(A[i], A[N - 1 - i])       # an unsigned maximum
                Out[i, 5] = A[i] % 7
                Out[i, 6] = T.Cast("int32", A[i]) - 128     # widened with zeros
                Q[i] = T.cast(X[i] * 255.0, T.uint8)        # float to unsigned

    return main


# -- arithmetic on dynamic dimensions ------------------------------------------------------


@tilelang.jit(out_idx=[-1])
def weighted_rows(heads, dim, block=32):
    seq = T.dynamic("seq")
    grid = T.ceildiv(seq * heads, block)     # in the factory, before the kernel

    @T.prim_func
    def main(Q: T.Tensor((seq * heads, dim), "float32"), W: T.Tensor((seq, heads), "float32"),
             O: T.Tensor((seq * heads, dim), "float32")):
        with T.Kernel(grid, threads=128) as bx:
            for r, d in T.Parallel(block, dim):
                row = bx * block + r
                if row < seq * heads:
                    O[row, d] = Q[row, d] * W[row // heads, row % heads]

    return main


# -- views --------------------------------------------------------------------------------


@tilelang.jit(out_idx=[-1])
def grouped_scores(N, groups=4, heads=8):
    # A [N, groups * heads] fragment seen as [N, groups, heads]: scaled per
    # head, then reduced over heads (as an indexer's scores are).
    @T.prim_func
    def main(S: T.Tensor((N, groups * heads), "float32"), W: T.Tensor((groups, heads), "float32"),
             Out: T.Tensor((N, groups), "float32")):
        with T.Kernel(1, threads=128) as bx:
            s = T.alloc_fragment((N, groups * heads), "float32")
            out = T.alloc_fragment((N, groups), "float32")
            T.copy(S, s)
            s3 = T.reshape(s, (N, groups, heads))
            for n, g, h in T.Parallel(N, groups, heads):
                s3[n, g, h] = T.max(s3[n, g, h], 0) * W[g, h]
            T.reduce_sum(s3, out, dim=-1)
            T.copy(out, Out)

    return main


# -- T.alloc_global ---------------------------------------------------------------------


@tilelang.jit(out_idx=[-1])
def two_pass_scale(N, block=32):
    # Scratch in global memory between two kernels of one prim_func (the
    # CPU runs them in order; the cuda target takes one kernel per prim_func).
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
        partial = T.alloc_global((N,), "float32")
        with T.Kernel(T.ceildiv(N, block), threads=32) as bx:
            for i in T.Parallel(block):
                partial[bx * block + i] = A[bx * block + i] * 3
        with T.Kernel(T.ceildiv(N, block), threads=32) as bx:
            for i in T.Parallel(block):
                B[bx * block + i] = partial[N - 1 - (bx * block + i)] + 1

    return main


@tilelang.jit(out_idx=[-1])
def scratch_roundtrip(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            scratch = T.alloc_global((N,), "float32")
            for i in T.Parallel(N):
                scratch[i] = A[i] * 2
            T.sync_threads()
            for i in T.Parallel(N):
                B[i] = scratch[N - 1 - i]

    return main


@tilelang.jit(out_idx=[-1])
def masked_fill(M, N, block_M=32):
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), Mask: T.Tensor((M, N), "bool"),
             B: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(M, block_M), threads=128) as bx:
            m = T.alloc_shared((block_M, N), "bool")
            T.copy(Mask[bx * block_M, 0], m)
            for i, j in T.Parallel(block_M, N):
                B[bx * block_M + i, j] = T.if_then_else(m[i, j], A[bx * block_M + i, j], -1.0)

    return main


@tilelang.jit
def compact_positive(N, block=128):
    # Stream compaction: each positive element takes the next free slot.
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), Count: T.Tensor((1,), "int32"),
             Out: T.Tensor((N,), "float32")):
        with T.Kernel(T.ceildiv(N, block), threads=block) as bx:
            for i in T.Parallel(block):
                if A[bx * block + i] > 0:
                    slot = T.atomic_add(Count[0], 1, memory_order="acq_rel", return_prev=True)
                    Out[slot] = A[bx * block + i]

    return main


@tilelang.jit
def block_tickets(blocks):
    # One ticket per block, taken in the block's scalar code.
    @T.prim_func
    def main(Count: T.Tensor((1,), "int32"), Tickets: T.Tensor((blocks,), "int32")):
        with T.Kernel(blocks, threads=128) as bx:
            ticket = T.atomic_add(Count[0], 1, return_prev=True)
            Tickets[bx] = ticket

    return main


# -- per-thread code: thread indices, per-thread locals ------------------------


@tilelang.jit(out_idx=[-1])
def thread_gemv(N, K, BLOCK_N=128, BLOCK_K=32, dtype=T.float16, accum_dtype=T.float):
    # One output per thread: the thread's index picks its row, its
    # accumulator is a per-thread local, the shared tiles are block-wide.
    @T.prim_func
    def main(A: T.Tensor((K,), dtype), B: T.Tensor((N, K), dtype), C: T.Tensor((N,), dtype)):
        with T.Kernel(T.ceildiv(N, BLOCK_N)) as bn:
            tn = T.get_thread_binding(0)
            A_shared = T.alloc_shared((BLOCK_K,), dtype)
            B_shared = T.alloc_shared((BLOCK_N, BLOCK_K), dtype)
            C_reg = T.alloc_local((1,), accum_dtype)
            T.clear(C_reg)
            for bk in T.serial(T.ceildiv(K, BLOCK_K)):
                for tk in T.serial(BLOCK_K):
                    A_shared[tk] = A[bk * BLOCK_K + tk]
                    B_shared[tn, tk] = B[bn * BLOCK_N + tn, bk * BLOCK_K + tk]
                for tk in T.serial(BLOCK_K):
                    C_reg[0] += A_shared[tk].astype(accum_dtype) * B_shared[tn, tk].astype(accum_dtype)
            C[bn * BLOCK_N + tn] = C_reg[0]

    return main


@tilelang.jit(out_idx=[-1])
def splitk_thread_gemv(N, K, BLOCK_N=8, BLOCK_K=16, dtype=T.float16, accum_dtype=T.float):
    # A 2-D block (threads=(x, y)): thread (tn, tk) sums a strided part of
    # row tn, the parts meet in shared memory through atomics.
    @T.prim_func
    def main(A: T.Tensor((K,), dtype), B: T.Tensor((N, K), dtype), C: T.Tensor((N,), dtype)):
        with T.Kernel(T.ceildiv(N, BLOCK_N), threads=(BLOCK_N, BLOCK_K)) as bn:
            tn = T.get_thread_binding(0)
            tk = T.get_thread_binding(1)
            a_local = T.alloc_local((1,), dtype)
            b_local = T.alloc_local((1,), dtype)
            acc = T.alloc_local((1,), accum_dtype)
            sums = T.alloc_shared((BLOCK_N,), accum_dtype)
            if tk == 0:
                sums[tn] = 0
            T.clear(acc)
            for bk in T.serial(T.ceildiv(K, BLOCK_K)):
                a_local[0] = A[bk * BLOCK_K + tk]
                b_local[0] = B[bn * BLOCK_N + tn, bk * BLOCK_K + tk]
                acc[0] += a_local[0].astype(accum_dtype) * b_local[0].astype(accum_dtype)
            T.atomic_add(sums[tn], acc[0])
            C[bn * BLOCK_N + tn] = sums[tn]

    return main


@tilelang.jit(out_idx=[-1])
def thread_row_sums(M, N, block=64):
    # TIR's spellings: a T.thread_binding loop, T.alloc_var per thread, a
    # per-thread name (row) assigned from the thread index.
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), S: T.Tensor((M,), "float32")):
        with T.Kernel(T.ceildiv(M, block), threads=block) as bx:
            for tx in T.thread_binding(block, thread="threadIdx.x"):
                acc = T.alloc_var("float32", 0)
                row = bx * block + tx
                for j in T.serial(N):
                    acc = acc + A[row, j]
                S[row] = acc

    return main


@tilelang.jit(out_idx=[-1])
def masked_logits(M, N, threads=64, block=128):
    # `tx = T.thread_binding(0, threads, "threadIdx.x")` as an assignment;
    # T.fill of a region of shared memory.
    @T.prim_func
    def main(L: T.Tensor((M, N), "float32"), Lo: T.Tensor((M,), "int32"),
             Out: T.Tensor((M, N), "float32")):
        with T.Kernel(M, threads=threads) as bx:
            tx = T.thread_binding(0, threads, thread="threadIdx.x")
            row = T.alloc_shared((N,), "float32")
            T.fill(row[0:N], 0)
            T.fill(row[1], 5)
            for n in T.serial(T.ceildiv(N, block)):
                for k in T.serial(block // threads):
                    idx = n * block + k * threads + tx
                    if idx < N:
                        row[idx] = row[idx] + L[bx, idx]
                        if idx < Lo[bx]:
                            row[idx] = -T.infinity("float32")
            T.copy(row, Out[bx, 0:N])

    return main


# -- T.cumsum ------------------------------------------------------------------


@tilelang.jit(out_idx=[-3, -2, -1])
def prefix_sums(M, N, dtype=T.float32):
    # Along rows in shared memory (in place), along columns of a fragment in
    # reverse into another fragment, and a 1-D tile.
    @T.prim_func
    def main(A: T.Tensor((M, N), dtype), Rows: T.Tensor((M, N), dtype),
             ColsRev: T.Tensor((M, N), dtype), First: T.Tensor((N,), dtype)):
        with T.Kernel(1, threads=128) as bx:
            s = T.alloc_shared((M, N), dtype)
            f = T.alloc_fragment((M, N), dtype)
            g = T.alloc_fragment((M, N), dtype)
            line = T.alloc_shared((N,), dtype)
            T.copy(A, s)
            T.copy(A, f)
            T.copy(A[0, 0:N], line)
            T.cumsum(s, dim=1)
            T.cumsum(f, g, dim=0, reverse=True)
            T.cumsum(line)
            T.copy(s, Rows)
            T.copy(g, ColsRev)
            T.copy(line, First)

    return main


# -- T.gemm on a region of a shared tile ---------------------------------------


@tilelang.jit(out_idx=[-1])
def split_k_operand(M, N, K, tail, dtype=T.float16):
    # One shared tile holds [main | tail] along K; the two GEMMs read its
    # column regions, as sparse MLA reads Q's no-RoPE and RoPE parts.
    @T.prim_func
    def main(A: T.Tensor((M, K + tail), dtype), B: T.Tensor((N, K), dtype),
             Bt: T.Tensor((N, tail), dtype), C: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            a = T.alloc_shared((M, K + tail), dtype)
            b = T.alloc_shared((N, K), dtype)
            bt = T.alloc_shared((N, tail), dtype)
            acc = T.alloc_fragment((M, N), "float32")
            T.copy(A, a)
            T.copy(B, b)
            T.copy(Bt, bt)
            T.clear(acc)
            T.gemm(a[:, :K], b, acc, transpose_B=True)
            T.gemm(a[:, K:], bt, acc, transpose_B=True)
            T.copy(acc, C)

    return main


@tilelang.jit(out_idx=[-2, -1])
def half_row_stats(M, N, dtype=T.float16):
    # Reductions of a half-precision fragment into half precision (the
    # softmax's row max), also accumulating (clear=False).
    @T.prim_func
    def main(X: T.Tensor((M, N), dtype), Mx: T.Tensor((M,), dtype), S: T.Tensor((M,), dtype)):
        with T.Kernel(1, threads=128) as bx:
            x = T.alloc_fragment((M, N), dtype)
            m = T.alloc_fragment((M,), dtype)
            s = T.alloc_fragment((M,), dtype)
            T.copy(X, x)
            T.reduce_max(x, m, dim=1, clear=True)
            T.fill(s, 1)
            T.reduce_sum(x, s, dim=1, clear=False)
            T.copy(m, Mx)
            T.copy(s, S)

    return main


@tilelang.jit(out_idx=[-1])
def local_row_mirror(R, N):
    # A whole row copied into a T.alloc_local buffer: every thread holds all
    # of it (the cuda target once shared the row out across threads).
    @T.prim_func
    def main(M: T.Tensor((R, N), "int32"), B: T.Tensor((R, N), "int32")):
        with T.Kernel(R, threads=128) as bx:
            m = T.alloc_local((N,), "int32")
            T.copy(M[bx, :], m)
            for i in T.Parallel(N):
                B[bx, i] = m[i] * 1000 + m[N - 1 - i]

    return main


@tilelang.jit(out_idx=[-1])
def masked_block_scale(R, N):
    # Fragments used as block-level scalars, as TileLang programs use them:
    # a row of flags read in a serial loop, a (1,) fragment holding a value.
    @T.prim_func
    def main(M: T.Tensor((R, N), "int32"), A: T.Tensor((R, N), "float32"),
             B: T.Tensor((R, N), "float32")):
        with T.Kernel(R, threads=128) as bx:
            flags = T.alloc_fragment((N,), "int32")
            first = T.alloc_fragment((1,), "float32")
            T.copy(M[bx, :], flags)
            first[0] = A[bx, 0]
            for k in T.serial(N):
                if flags[k] != 0:
                    for i in T.Parallel(N):
                        B[bx, i] = A[bx, i] * first[0] + k

    return main


@tilelang.jit(out_idx=[-1])
def shared_kv_attention(M, N, D, dtype=T.float16):
    # One shared tile is the K of Q K^T and the V of P V (as MLA's KV is):
    # gemms read it K-major and MN-major.
    @T.prim_func
    def main(Q: T.Tensor((M, D), dtype), KV: T.Tensor((N, D), dtype), O: T.Tensor((M, D), "float32")):
        with T.Kernel(1, threads=128) as bx:
            q = T.alloc_shared((M, D), dtype)
            kv = T.alloc_shared((N, D), dtype)
            p = T.alloc_shared((M, N), dtype)
            s = T.alloc_fragment((M, N), "float32")
            o = T.alloc_fragment((M, D), "float32")
            T.copy(Q, q)
            T.copy(KV, kv)
            T.gemm(q, kv, s, transpose_B=True, clear_accum=True)
            T.copy(s, p)
            T.gemm(p, kv, o, clear_accum=True)
            T.copy(o, O)

    return main


@tilelang.jit(out_idx=[-1])
def clamp_to_length():
    # A dynamic dimension (TileLang's T.symbolic spelling) used as a value
    # inside the kernel.
    N = T.symbolic("N")

    @T.prim_func
    def main(A: T.Tensor((N,), "int32"), B: T.Tensor((N,), "int32")):
        with T.Kernel(T.ceildiv(N, 128), threads=128) as bx:
            for i in T.Parallel(128):
                B[bx * 128 + i] = T.min(A[bx * 128 + i], N)

    return main


@tilelang.jit(out_idx=[-1])
def thread_var_retyped(N):
    # A name bound per thread to an int, then to a float: it takes the new
    # value's type (as Python rebinds it), not the first one's.
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=N) as bx:
            tx = T.get_thread_binding()
            v = tx
            v = v * 0.5 + A[tx]
            B[tx] = v

    return main
