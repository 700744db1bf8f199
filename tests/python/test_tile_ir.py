"""The Python package reaches the C++ compiler: tile IR round trips and errors."""

import re

import pytest

import tessel

KERNEL = """
func.func @f(%A: memref<64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<64xf32, #tile.scope<shared>>
    tile.copy %A[%c0] [64] to %s[%c0] [64]
        : memref<64xf32, #tile.scope<global>> to memref<64xf32, #tile.scope<shared>>
  }
  return
}
"""


def test_version_matches_native_library():
    assert re.fullmatch(r"\d+\.\d+\.\d+", tessel.__version__)
    from tessel import _tessel

    assert _tessel.version() == tessel.__version__


def test_round_trip_is_stable():
    once = tessel.run_tile_ir(KERNEL)
    assert "tile.copy" in once and "#tile.scope<shared>" in once
    assert tessel.run_tile_ir(once) == once


def test_pipeline_runs():
    out = tessel.run_tile_ir(KERNEL, "builtin.module(canonicalize,tile-check-bounds)")
    assert "tile.kernel grid" in out


def test_verifier_error_is_located():
    bad = KERNEL.replace("[64] to %s[%c0] [64]", "[64] to %s[%c0] [32]")
    with pytest.raises(tessel.CompileError) as info:
        tessel.run_tile_ir(bad, name="kernel.mlir")
    message = info.value.diagnostics
    assert re.search(r"kernel\.mlir:8:\d+: error: 'tile.copy' op source region \[64\] "
                     r"and destination region \[32\] differ in shape", message), message


def test_syntax_error_is_located():
    with pytest.raises(tessel.CompileError, match=r"x\.mlir:1:\d+: error"):
        tessel.run_tile_ir("func.func @f( {", name="x.mlir")


def test_bad_pipeline_is_an_error():
    with pytest.raises(tessel.CompileError, match="no-such-pass"):
        tessel.run_tile_ir(KERNEL, "builtin.module(no-such-pass)")


def test_failing_pass_is_an_error():
    bad = KERNEL.replace("to %s[%c0] [64]", "to %s[%c1] [64]")
    with pytest.raises(tessel.CompileError, match=r"outside the tile of size 64"):
        tessel.run_tile_ir(bad, "builtin.module(tile-check-bounds)")
