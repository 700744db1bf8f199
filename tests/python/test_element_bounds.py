"""Element accesses past a tensor's edge, and tile atomics into strided
regions: on the CPU backend here, and on the cuda target through the
emulator in tests/emulator/test_differential.py. A load past the edge
reads zero and a store there is dropped, as tile copies do."""

import numpy as np

import tessel
import tessel.language as T


@tessel.jit(out_idx=[-1])
def row_blocks(B, M, n, block=128):
    # Blocks walk the rows fastest, so a row's last block runs after the
    # next row's first: a store past the row's end would overwrite it.
    @T.prim_func
    def main(X: T.Tensor((B, M, n), "float32"), O: T.Tensor((B, M, n), "float32")):
        with T.Kernel(M, T.ceildiv(n, block), B, threads=128) as (m, blk, b):
            for j in T.Parallel(block):
                O[b, m, blk * block + j] = X[b, m, blk * block + j] + m * 1000

    return main


@tessel.jit(out_idx=[-1])
def shifted_read(M, n, shift, block=128):
    @T.prim_func
    def main(X: T.Tensor((M, n), "float32"), O: T.Tensor((M, block), "float32")):
        with T.Kernel(M, threads=128) as m:
            for j in T.Parallel(block):
                O[m, j] = X[m, j + shift]

    return main


@tessel.jit
def atomic_strided(S, H, D):
    # Every head adds its own tile into O[:, h, :]: a strided region whose
    # middle index is a point.
    @T.prim_func
    def main(X: T.Tensor((H, S, D), "float32"), O: T.Tensor((S, H, D), "float32")):
        with T.Kernel(H, threads=128) as h:
            tile = T.alloc_shared((S, D), "float32")
            T.copy(X[h, 0:S, 0:D], tile)
            T.atomic_add(O[0:S, h, 0:D], tile)

    return main


@tessel.jit
def atomic_unit_dims(S, H, D):
    # Regions and tiles with unit dimensions match as in T.copy: a D-vector
    # into O[s, h:h+1, 0:D], and a 1 x D tile into O[s, h, 0:D].
    @T.prim_func
    def main(X: T.Tensor((S, H, D), "float32"), O: T.Tensor((S, H, D), "float32")):
        with T.Kernel(S, threads=128) as s:
            row = T.alloc_shared((D,), "float32")
            T.copy(X[s, 0, 0:D], row)
            T.atomic_add(O[s, 0:1, 0:D], row)
            tile = T.alloc_shared((1, D), "float32")
            T.copy(X[s, H - 1, 0:D], tile)
            T.atomic_add(O[s, H - 1, 0:D], tile)

    return main


def test_store_past_the_edge_is_dropped():
    b, m, n = 2, 3, 300
    x = np.arange(b * m * n, dtype=np.float32).reshape(b, m, n)
    out = row_blocks(b, m, n)(x)
    np.testing.assert_array_equal(out, x + np.arange(m, dtype=np.float32)[None, :, None] * 1000)


def test_load_past_the_edge_reads_zero():
    m, n, shift = 4, 300, 200
    x = np.arange(1, m * n + 1, dtype=np.float32).reshape(m, n)
    out = shifted_read(m, n, shift)(x)
    expected = np.zeros((m, 128), np.float32)
    expected[:, :n - shift] = x[:, shift:]
    np.testing.assert_array_equal(out, expected)


def test_tile_atomic_add_into_a_strided_region():
    s, h, d = 16, 3, 8
    x = np.arange(h * s * d, dtype=np.float32).reshape(h, s, d)
    out = np.ones((s, h, d), np.float32)
    atomic_strided(s, h, d)(x, out)
    np.testing.assert_array_equal(out, 1 + x.transpose(1, 0, 2))


def test_tile_atomic_add_with_unit_dimensions():
    s, h, d = 4, 3, 8
    x = np.arange(s * h * d, dtype=np.float32).reshape(s, h, d)
    out = np.ones((s, h, d), np.float32)
    atomic_unit_dims(s, h, d)(x, out)
    expected = np.ones((s, h, d), np.float32)
    expected[:, 0] += x[:, 0]
    expected[:, h - 1] += x[:, h - 1]
    np.testing.assert_array_equal(out, expected)
