"""The CPU backend runs tile IR exactly: GEMM, copies at ragged edges,
reductions, and float conversions bit-exact with ml_dtypes."""

import os
import shutil

import ml_dtypes
import numpy as np
import pytest

from tessel import _tessel

SMALL_FLOATS = {
    "f16": np.float16,
    "bf16": ml_dtypes.bfloat16,
    "f8E4M3FN": ml_dtypes.float8_e4m3fn,
    "f8E5M2": ml_dtypes.float8_e5m2,
}


def _compile(ir):
    return _tessel.CPUModule.compile(ir)


def _cast_kernel(small, n):
    return f"""
func.func @down(%x: memref<{n}xf32>, %y: memref<{n}x{small}>) {{
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(1) {{
  ^bb0(%bx: index):
    tile.parallel [{n}] {{
    ^bb0(%i: index):
      %v = memref.load %x[%i] : memref<{n}xf32>
      %h = tile.cast %v : f32 to {small}
      memref.store %h, %y[%i] : memref<{n}x{small}>
    }}
  }}
  return
}}
func.func @up(%y: memref<{n}x{small}>, %x: memref<{n}xf32>) {{
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(1) {{
  ^bb0(%bx: index):
    tile.parallel [{n}] {{
    ^bb0(%i: index):
      %h = memref.load %y[%i] : memref<{n}x{small}>
      %v = tile.cast %h : {small} to f32
      memref.store %v, %x[%i] : memref<{n}xf32>
    }}
  }}
  return
}}
"""


def _interesting_f32(n_random):
    rng = np.random.default_rng(0)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 448, 464, 465, 480, 500, 57344,
                        61440, 65504, 65520, 1e-10, 2.0**-9, 2.0**-10, 3 * 2.0**-10,
                        2.0**-24, 2.0**-25, 3 * 2.0**-26, 1e30, -1e30, 3.4e38], np.float32)
    scales = 2.0 ** rng.integers(-30, 20, n_random)
    noise = rng.standard_normal(n_random) * scales
    # Exact ties: values halfway between neighbouring f16/bf16/fp8 values.
    ties = (rng.integers(1, 2**10, n_random // 4) * 2 + 1).astype(np.float32) * 2.0**-12
    bits = rng.integers(0, 2**32, n_random // 4, dtype=np.uint64).astype(np.uint32)
    raw = bits.view(np.float32)
    return np.concatenate([special, noise.astype(np.float32), ties, -ties, raw]).astype(np.float32)


@pytest.mark.parametrize("small", sorted(SMALL_FLOATS))
def test_truncation_matches_ml_dtypes(small):
    dtype = SMALL_FLOATS[small]
    x = _interesting_f32(20000)
    module = _compile(_cast_kernel(small, x.size))
    y = np.zeros(x.size, dtype)
    nbits = np.uint8 if np.dtype(dtype).itemsize == 1 else np.uint16
    # ml_dtypes arrays have no buffer protocol; their bits travel as integers.
    module.run("down", [x, y.view(nbits)])
    with np.errstate(over="ignore"):
        expected = x.astype(dtype)
    got, want = y.view(nbits), expected.view(nbits)
    nan = np.isnan(expected.astype(np.float32))
    assert np.array_equal(np.isnan(y.astype(np.float32)), nan)
    mismatch = np.flatnonzero((got != want) & ~nan)
    assert mismatch.size == 0, (small, x[mismatch[:5]], got[mismatch[:5]], want[mismatch[:5]])


@pytest.mark.parametrize("small", sorted(SMALL_FLOATS))
def test_extension_is_exact_for_every_value(small):
    dtype = SMALL_FLOATS[small]
    nbits = np.uint8 if np.dtype(dtype).itemsize == 1 else np.uint16
    everything = np.arange(np.iinfo(nbits).max + 1, dtype=np.uint32).astype(nbits).view(dtype)
    module = _compile(_cast_kernel(small, everything.size))
    out = np.zeros(everything.size, np.float32)
    module.run("up", [everything.view(nbits).copy(), out])
    expected = everything.astype(np.float32)
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(out), nan)
    assert np.array_equal(out[~nan].view(np.uint32), expected[~nan].view(np.uint32))


GEMM = """
func.func @gemm(%A: memref<?x64xf16>, %B: memref<64x48xf16>, %C: memref<?x48xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c16 = arith.constant 16 : index
  %m = memref.dim %A, %c0 : memref<?x64xf16>
  %mb = arith.ceildivsi %m, %c32 : index
  %c2 = arith.constant 2 : index
  tile.kernel grid(%mb) threads(128) {
  ^bb0(%bx: index):
    %as = tile.alloc : memref<32x16xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<16x48xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<32x48xf32, #tile.scope<fragment>>
    %zero = arith.constant 0.0 : f32
    tile.fill %acc, %zero : memref<32x48xf32, #tile.scope<fragment>>
    %row = arith.muli %bx, %c32 : index
    %c4 = arith.constant 4 : index
    tile.pipelined %c0 to %c4 step %c1 stages 2 {
    ^bb0(%k: index):
      %kk = arith.muli %k, %c16 : index
      tile.copy %A[%row, %kk] [32, 16] to %as[%c0, %c0] [32, 16]
          : memref<?x64xf16> to memref<32x16xf16, #tile.scope<shared>>
      tile.copy %B[%kk, %c0] [16, 48] to %bs[%c0, %c0] [16, 48]
          : memref<64x48xf16> to memref<16x48xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc : memref<32x16xf16, #tile.scope<shared>>,
          memref<16x48xf16, #tile.scope<shared>>, memref<32x48xf32, #tile.scope<fragment>>
    }
    tile.copy %acc[%c0, %c0] [32, 48] to %C[%row, %c0] [32, 48]
        : memref<32x48xf32, #tile.scope<fragment>> to memref<?x48xf32>
  }
  return
}
"""


@pytest.mark.parametrize("m", [32, 50, 7])
def test_gemm_with_ragged_rows(m):
    """M not a multiple of the block: the tail reads zeros and writes nothing
    past the tensor (a guard row after C must stay untouched)."""
    rng = np.random.default_rng(m)
    a = rng.standard_normal((m, 64)).astype(np.float16)
    b = rng.standard_normal((64, 48)).astype(np.float16)
    c_with_guard = np.full((m + 1, 48), 7.0, np.float32)
    c = c_with_guard[:m]
    _compile(GEMM).run("gemm", [a, b, c])
    expected = a.astype(np.float32) @ b.astype(np.float32)
    np.testing.assert_allclose(c, expected, rtol=1e-5, atol=1e-4)
    assert np.all(c_with_guard[m] == 7.0)


REDUCE = """
func.func @rows(%X: memref<8x16xf32>, %Mx: memref<8xf32>, %S: memref<8xf32>, %Am: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(32) {
  ^bb0(%bx: index):
    %x = tile.alloc : memref<8x16xf32, #tile.scope<fragment>>
    %m = tile.alloc : memref<8xf32, #tile.scope<fragment>>
    %s = tile.alloc : memref<8xf32, #tile.scope<fragment>>
    %a = tile.alloc : memref<16xf32, #tile.scope<fragment>>
    tile.copy %X[%c0, %c0] [8, 16] to %x[%c0, %c0] [8, 16]
        : memref<8x16xf32> to memref<8x16xf32, #tile.scope<fragment>>
    tile.reduce max %x, %m dim 1 : memref<8x16xf32, #tile.scope<fragment>> to memref<8xf32, #tile.scope<fragment>>
    %one = arith.constant 1.0 : f32
    tile.fill %s, %one : memref<8xf32, #tile.scope<fragment>>
    tile.reduce abssum %x, %s dim 1 {clear = false} : memref<8x16xf32, #tile.scope<fragment>> to memref<8xf32, #tile.scope<fragment>>
    tile.reduce absmax %x, %a dim 0 : memref<8x16xf32, #tile.scope<fragment>> to memref<16xf32, #tile.scope<fragment>>
    tile.copy %m[%c0] [8] to %Mx[%c0] [8] : memref<8xf32, #tile.scope<fragment>> to memref<8xf32>
    tile.copy %s[%c0] [8] to %S[%c0] [8] : memref<8xf32, #tile.scope<fragment>> to memref<8xf32>
    tile.copy %a[%c0] [16] to %Am[%c0] [16] : memref<16xf32, #tile.scope<fragment>> to memref<16xf32>
  }
  return
}
"""


def test_reductions():
    x = np.random.default_rng(1).standard_normal((8, 16)).astype(np.float32)
    mx, s, am = np.zeros(8, np.float32), np.zeros(8, np.float32), np.zeros(16, np.float32)
    _compile(REDUCE).run("rows", [x, mx, s, am])
    np.testing.assert_array_equal(mx, x.max(axis=1))
    np.testing.assert_allclose(s, 1 + np.abs(x).sum(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(am, np.abs(x).max(axis=0))


def test_llvm_ir_is_available():
    module = _compile(REDUCE)
    assert "define" in module.llvm_ir and "_mlir_ciface_rows" in module.llvm_ir


def test_wrong_arity_is_an_error():
    module = _compile(REDUCE)
    with pytest.raises(ValueError, match="takes 4 arguments, got 1"):
        module.run("rows", [np.zeros((8, 16), np.float32)])
    with pytest.raises(ValueError, match="no function 'nope'"):
        module.run("nope", [])


def test_invalid_ir_is_an_error():
    with pytest.raises(ValueError, match="error"):
        _compile("func.func @f( {")


_PRINT_KERNEL = '''
import numpy as np
import tessel
import tessel.language as T


@tessel.jit(target="cpu")
def show(N):
    @T.prim_func
    def main(X: T.Tensor((N,), T.float32), Y: T.Tensor((N,), T.int32)):
        with T.Kernel(1, threads=1) as bx:
            T.print(X, msg="x:")
            T.print(Y[1], msg="y1:")
            T.print(T.float16(0.5) + X[0].astype(T.float16), msg="h:")
    return main


show(3)(np.array([1.5, -2.0, 1e20], np.float32), np.array([7, -9, 11], np.int32))
print("done", flush=True)
'''


def test_print_on_the_cpu_uses_tessels_own_helpers(tmp_path):
    """T.print lowers to vector.print, whose helpers (printF32, printI64,
    printString, ...) Tessel defines itself: the output is MLIR's format and
    no runner library of LLVM's is opened for it."""
    import subprocess
    import sys

    script = tmp_path / "show.py"
    script.write_text(_PRINT_KERNEL)
    env = dict(os.environ, TESSEL_CACHE_DIR="off")
    strace = shutil.which("strace")
    command = [sys.executable, str(script)]
    if strace:
        command = [strace, "-f", "-qq", "-e", "trace=openat", "-o", str(tmp_path / "trace")] + command
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    # C's stdout is flushed at exit, after Python's "done".
    lines = [line.strip() for line in run.stdout.splitlines()]
    assert "x: 1.5, -2, 1e+20," in lines
    assert "y1: -9," in lines
    assert "h: 2," in lines
    if strace:
        opened = (tmp_path / "trace").read_text()
        assert "runner_utils" not in opened
