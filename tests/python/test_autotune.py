"""tessel.autotune on the CPU backend: every configuration is compiled and
timed, the fastest returned; the winner is cached per key (in memory and on
disk, across processes); broken configurations are skipped and reported."""

import os
import subprocess
import sys

import numpy as np
import pytest

import tessel
import tessel.language as T

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = [{"block": 32}, {"block": 128}, {"block": 64, "dtype": "float17"}]


@tessel.autotune(configs=CONFIGS, key=["n"], rep=3, warmup=1)
@tessel.jit(out_idx=[-1], target="cpu")
def double(n, block=64, dtype="float32"):
    @T.prim_func
    def main(X: T.Tensor((n,), dtype), Y: T.Tensor((n,), dtype)):
        with T.Kernel(T.ceildiv(n, block), threads=128) as bx:
            for i in T.Parallel(block):
                if bx * block + i < n:
                    Y[bx * block + i] = X[bx * block + i] * 2.0

    return main


def test_the_fastest_config_is_returned_and_broken_ones_skipped(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("TESSEL_CACHE_DIR", str(tmp_path))
    kernel = double(1000)
    results = kernel.autotune_results
    timed = [r for r in results if "ms" in r]
    assert [r["config"] for r in timed] == CONFIGS[:2]
    assert kernel.config == min(timed, key=lambda r: r["ms"])["config"]
    # The third config's dtype does not exist: skipped, its error kept.
    assert results[2]["config"] == CONFIGS[2] and "unknown dtype 'float17'" in results[2]["error"]
    x = np.arange(1000, dtype=np.float32)
    np.testing.assert_array_equal(kernel(x), 2 * x)
    err = capfd.readouterr().err
    assert "tessel.autotune: double: config 1/3 {'block': 32}: " in err
    assert "config 3/3 {'block': 64, 'dtype': 'float17'}: skipped: " in err
    assert "chose config" in err
    # The same key again: the remembered winner, no timing.
    again = double(1000)
    assert again.config == kernel.config
    err = capfd.readouterr().err
    assert "(cached)" not in err and "config 1/3 {'block': 32}:" not in err


SCRIPT = r"""
import sys
sys.path.insert(0, {tests!r})
from test_autotune import double
kernel = double({n})
print("config=%r" % (kernel.config,))
"""


def run(cache, n):
    env = dict(os.environ, TESSEL_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(
        tests=os.path.join(REPO, "tests", "python"), n=n)],
        env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip(), out.stderr


def test_the_winner_is_cached_on_disk_per_key(tmp_path):
    first, err = run(tmp_path, 512)
    assert "config 1/3" in err and "(cached)" not in err
    second, err = run(tmp_path, 512)
    assert second == first and "(cached)" in err and "config 1/3 {'block': 32}:" not in err
    # Another key value is tuned on its own.
    _, err = run(tmp_path, 256)
    assert "config 1/3" in err and "(cached)" not in err
    # A damaged entry is tuned again and rewritten, never trusted.
    for entry in (tmp_path / "autotune").glob("*.json"):
        entry.write_text("{not json")
    _, err = run(tmp_path, 512)
    assert "(cached)" not in err and "chose config" in err
    _, err = run(tmp_path, 512)
    assert "(cached)" in err


def test_misuse_is_reported():
    with pytest.raises(TypeError, match=r"config \{'blok': 32\} names 'blok', which double\(\) "
                                        r"does not take"):
        tessel.autotune(configs=[{"blok": 32}])(double.jit_fn)
    with pytest.raises(TypeError, match="put @tessel.autotune"):
        tessel.autotune(configs=[{"block": 32}])(lambda n: n)
    # A tuned value given by the caller compiles that value, untuned (as
    # TileLang's autotune does).
    kernel = double(64, block=32)
    assert not hasattr(kernel, "autotune_results")
    with pytest.raises(ValueError, match="configs is empty"):
        tessel.autotune(configs=[])(double.jit_fn)


@tessel.jit(out_idx=[-1], target="cpu")
def bad_everywhere(n, block=64):
    @T.prim_func
    def main(X: T.Tensor((n,), "float32"), Y: T.Tensor((n,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            Y[0] = undefined_name

    return main


def test_no_config_compiles(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSEL_CACHE_DIR", "off")
    tuned = tessel.autotune(configs=[{"block": 32}, {"block": 64}], verbose=False)(bad_everywhere)
    with pytest.raises(tessel.CompileError, match=r"no configuration of bad_everywhere\(\) ran:"
                                                  r"\n  \{'block': 32\}: .*undefined_name"):
        tuned(16)


@tessel.jit(out_idx=[-1], target="cpu")
def dyn_double(block=64):
    n = T.dynamic("n")

    @T.prim_func
    def main(X: T.Tensor((n,), "float32"), Y: T.Tensor((n,), "float32")):
        with T.Kernel(T.ceildiv(n, block), threads=128) as bx:
            for i in T.Parallel(block):
                if bx * block + i < n:
                    Y[bx * block + i] = X[bx * block + i] * 2.0

    return main


def test_dynamic_shapes_need_inputs(monkeypatch):
    monkeypatch.setenv("TESSEL_CACHE_DIR", "off")
    tuned = tessel.autotune(configs=[{"block": 32}, {"block": 64}], verbose=False)(dyn_double)
    with pytest.raises(ValueError, match="argument 'X' has a dynamic dimension; pass inputs="):
        tuned()
    x = np.ones(300, np.float32)
    tuned = tessel.autotune(configs=[{"block": 32}, {"block": 64}], verbose=False,
                            inputs=lambda kernel: [x])(dyn_double)
    kernel = tuned()
    assert kernel.config in ({"block": 32}, {"block": 64})
    np.testing.assert_array_equal(kernel(x), 2 * x)
