"""Bad input the way users and engines supply it: every case here once
crashed Tessel, wrapped silently or gave a wrong result (issue 17). Each now
gives a located error (or the right answer)."""

import os
import subprocess

import pytest

from tessel import _tessel

BUILD = os.environ.get("TESSEL_BUILD_DIR", "build")
TESSELC = os.path.join(BUILD, "bin", "tesselc")

KERNEL = """
import tessel.language as T
@T.prim_func
def k(A: T.Tensor((4,), "float32")):
    with T.Kernel(1, threads=32) as bx:
        A[0] = x
"""


def _compile(source, entry="k", defines=()):
    request = _tessel.KernelRequest()
    request.source = source
    request.file = "case.py"
    request.first_line = 1
    request.entry = entry
    request.args = list(defines)
    result, _ = _tessel.compile_kernel_to_tile(request)
    return result


def _tesselc(tmp_path, source, *args):
    path = tmp_path / "case.py"
    path.write_text(source)
    return subprocess.run([TESSELC, str(path), "--entry", "k", "-o", str(tmp_path / "k.ptx"), *args],
                          capture_output=True, text=True, timeout=120)


# -- deep input: each overflowed a stack (SIGSEGV) before ------------------
def _nested(n):
    return "(0 + " * n + "f(n - 1)" + ")" * n


DEEP_CASES = [
    # an 8,000- and a 100,000-term sum: the evaluator's stack, then the parser's
    ("sum_8000", "x = " + "+".join(["1"] * 8000), "1:402: error: expression nested too deeply"),
    ("sum_100000", "x = " + "+".join(["1"] * 100000), "1:402: error: expression nested too deeply"),
    ("calls_chain", "def f():\n    return f\nx = f" + "()" * 5000, "3:"),
    ("attribute_chain", "x = T" + ".a" * 5000, "1:"),
    ("subscript_chain", "x = (1,)" + "[0]" * 5000, "1:"),
    ("power_chain", "x = " + "**".join(["1"] * 5000), "1:"),
    ("elif_chain", "if 0:\n    x = 0\n" + "elif 0:\n    x = 0\n" * 3000 + "else:\n    x = 1\n", ""),
    # shallow trees, deep evaluation: recursion through a helper 60 calls deep
    ("recursion", "def f(n):\n    if n == 0:\n        return 0\n    return " + _nested(45) + "\nx = f(60)",
     "evaluation nested too deeply (more than 2000 levels"),
]


@pytest.mark.parametrize("name,host,expected", DEEP_CASES, ids=[c[0] for c in DEEP_CASES])
def test_deep_input_is_a_located_error(name, host, expected):
    result = _compile("import tessel.language as T\n" + host + KERNEL)
    assert not result.ok
    assert "nested too deeply" in result.diagnostics, result.diagnostics[:400]
    first = result.diagnostics.splitlines()[0]
    assert first.startswith("case.py:"), first[:200]
    if expected and expected[0].isdigit():
        # line numbers count the import line this test adds
        line, rest = expected.split(":", 1)
        assert first.startswith("case.py:%d:%s" % (int(line) + 1, rest)), first[:200]
    elif expected:
        assert expected in result.diagnostics


def test_deep_input_through_tesselc_exits_1(tmp_path):
    out = _tesselc(tmp_path, "x = " + "+".join(["1"] * 8000) + KERNEL)
    assert out.returncode == 1, out.stderr[-400:]
    assert "nested too deeply" in out.stderr
    # A 16 KB line is shown as a window around the column, not whole.
    assert max(len(line) for line in out.stderr.splitlines()) < 200


def test_nesting_a_real_kernel_uses_still_compiles():
    host = "x = " + "+".join(["1"] * 150) + "\ny = " + "(" * 60 + "1" + ")" * 60 + "\n"
    assert _compile("import tessel.language as T\n" + host + KERNEL).ok


# -- exact compile-time integers, and values that do not fit ---------------
def _value_kernel(host, dtype="float32", shape="4,", grid="1", index="0"):
    return ("import tessel.language as T\n" + host + "\n@T.prim_func\n"
            "def k(A: T.Tensor((%s), \"%s\")):\n"
            "    with T.Kernel(%s, threads=32) as bx:\n"
            "        A[%s] = x\n" % (shape, dtype, grid, index))


def _constants(result):
    import re
    return re.findall(r"arith.constant (\S+) : (\S+)", result.output)


INT_CASES = [
    # host expression, dtype, the constant stored (before: what it wrapped to)
    ("x = (2**32) * (2**32) + 64", "float32", ("1.84467441E+19", "f32")),  # was 64
    ("x = 1 << 64", "float32", ("1.84467441E+19", "f32")),                 # was 1
    ("x = (1 << 64) >> 60", "int32", ("16", "i32")),
    ("x = 2**64 // 2**60", "int32", ("16", "i32")),
    ("x = -(2**63) // -1 - 2**63", "int32", ("0", "i32")),                # was UB
    ("x = 99999999999999999999 - 99999999999999999998", "int32", ("1", "i32")),
    ("x = int(2**53 + 1 == 2**53)", "int32", ("0", "i32")),               # compared as doubles
    ("x = 0xFFFFFFFFFFFFFFFF", "uint64", ("-1", "i64")),                   # a uint64 constant is fine
    ("x = 0xFFFFFFFF", "uint32", ("-1", "i32")),
]


@pytest.mark.parametrize("host,dtype,constant", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_compile_time_integers_are_exact(host, dtype, constant):
    result = _compile(_value_kernel(host, dtype))
    assert result.ok, result.diagnostics
    assert constant in _constants(result)


FIT_CASES = [
    # (host, dtype, shape, grid, index), expected "line:col: error: ..."
    (("x = 2**32", "int32", "4,", "1", "0"), "6:16: error: the integer 4294967296 does not fit in int32"),
    (("x = -2**31 - 1", "int32", "4,", "1", "0"), "6:16: error: the integer -2147483649 does not fit in int32"),
    (("x = 2**64", "uint64", "4,", "1", "0"), "6:16: error: the integer 18446744073709551616 does not fit in int64"),
    (("x = 1", "float32", "(2**32) * (2**32) + 64,", "1", "0"),
     "4:10: error: a tensor dimension is 18446744073709551680, which does not fit in 64 bits"),
    (("x = 1", "float32", "2**40, 2**40", "1", "0, 0"),
     "4:10: error: a tensor of 1099511627776 x 1099511627776 elements needs more than 2^63 - 1 bytes"),
    (("x = 1", "float32", "4,", "1", "2**64"), "6:11: error: buffer indices must be integers, got an int too large"),
    (("x = 1 << -1", "float32", "4,", "1", "0"), "negative shift count"),
    (("x = 2**100000", "float32", "4,", "1", "0"), "this integer would need more than 4096 bits"),
    # grid extents: CUDA's limits, at compile time for static extents
    (("x = 1", "float32", "4,", "2**32 + 1", "0"),
     "5:10: error: grid extent x is 4294967297, more than CUDA launches (2147483647, 2^31 - 1)"),
    (("x = 1", "float32", "4,", "2**31", "0"), "5:10: error: grid extent x is 2147483648"),
    (("x = 1", "float32", "4,", "1, 65536", "0"), "5:10: error: grid extent y is 65536, more than CUDA launches (65535)"),
    (("x = 1", "float32", "4,", "1, 1, 70000", "0"), "5:10: error: grid extent z is 70000"),
    (("x = 1", "float32", "4,", "-1", "0"), "5:10: error: grid extent x is -1; a kernel needs at least one block"),
    (("x = 1", "float32", "4,", "0", "0"), "5:10: error: grid extent x is 0"),
    (("x = 1", "float32", "4,", "2**64", "0"),
     "5:10: error: grid extent x is 18446744073709551616, which does not fit in 64 bits"),
    (("x = 2**4000 / 3", "float32", "4,", "1", "0"), "integer division result too large for a float"),
    (("x = int(1e400)", "float32", "4,", "1", "0"), "cannot convert infinity to an integer"),
]


@pytest.mark.parametrize("args,expected", FIT_CASES, ids=[c[1][-50:] for c in FIT_CASES])
def test_values_that_do_not_fit_are_located_errors(args, expected):
    result = _compile(_value_kernel(*args))
    assert not result.ok
    if expected[0].isdigit():
        assert result.diagnostics.startswith("case.py:" + expected), result.diagnostics
    else:
        assert expected in result.diagnostics, result.diagnostics


def test_integer_literal_past_the_limit():
    # Up to 4096 bits a literal is exact (it was refused past 64 bits).
    assert _compile(_value_kernel("x = 0x" + "F" * 1000 + " >> 3990")).ok
    result = _compile(_value_kernel("x = " + "9" * 1300))
    assert "integer literal is too large (more than 4096 bits)" in result.diagnostics


def test_thread_extents_are_checked_one_by_one():
    # Their product wrapped before: (2**32, 2**32) multiplied to 0 (UB).
    source = _value_kernel("x = 1").replace("threads=32", "threads=(2**32, 2**32)")
    result = _compile(source)
    assert not result.ok
    assert "thread extents must be in [1, 1024], got 4294967296" in result.diagnostics


def test_grid_limits_that_compile():
    assert _compile(_value_kernel("x = 1", grid="2**31 - 1")).ok
    assert _compile(_value_kernel("x = 1", grid="1, 65535, 65535")).ok


DYNAMIC_GRID = """
import numpy as np
import tessel
import tessel.language as T

@tessel.jit(out_idx=[-1], target="cuda")
def k():
    M = T.dynamic("M")
    @T.prim_func
    def main(A: T.Tensor((M,), "float32"), B: T.Tensor((M,), "float32")):
        with T.Kernel(M - 4, M // 16 + 1, threads=32) as (bx, by):
            B[0] = A[0]
    return main

kernel = k()
for m in (2, 16 * 65536, 4, 8):
    try:
        kernel(np.ones(m, np.float32))
        print("M=%d: launched" % m)
    except ValueError as e:
        print("M=%d: %s" % (m, e))

@tessel.jit(out_idx=[-1], target="cuda")
def blocks():
    M = T.dynamic("M")
    @T.prim_func
    def main(A: T.Tensor((M,), "float32"), B: T.Tensor((M,), "float32")):
        with T.Kernel(T.ceildiv(M, 16), threads=32) as bx:
            for i in T.Parallel(16):
                if bx * 16 + i < M:
                    B[bx * 16 + i] = A[bx * 16 + i] + 1.0
    return main

# An empty tensor (M = 0): no blocks, an empty result; the cuda target
# refused it as "not contiguous (strides (0,))" before.
print("empty:", blocks()(np.ones(0, np.float32)).shape)
"""


@pytest.mark.parametrize("target", ["cuda", "cpu"])
def test_dynamic_grid_extents_are_checked_at_launch(tmp_path, target):
    script = tmp_path / "grid.py"
    script.write_text(DYNAMIC_GRID.replace('target="cuda"', 'target="%s"' % target))
    env = dict(os.environ, TESSEL_CUDA_DRIVER="emu", TESSEL_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run(["python3", str(script)], capture_output=True, text=True, env=env,
                         timeout=300)
    if target == "cuda" and out.returncode and "emulator" in out.stderr:
        pytest.skip("the emulator is not built here")
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stderr[-2000:]
    # before: the negative extent ran no blocks (B stayed zero), and 65,537
    # blocks along y went to the driver
    if target == "cuda":
        assert lines[0] == "M=2: k(): grid extent x = sub(M, 4) is -2 for these dimensions; " \
                           "CUDA launches no negative extents", lines
        assert lines[1].startswith("M=1048576: k(): grid extent y = add(floordiv(M, 16), 1) is "
                                   "65537"), lines
    else:
        assert lines[0] == "M=2: 'k': grid extent x is -2 for these dimensions; " \
                           "CUDA launches no negative extents", lines
        assert lines[1] == "M=1048576: 'k': grid extent y is 65537 for these dimensions; " \
                           "CUDA launches at most 65535 blocks along y", lines
    assert lines[2] == "M=4: launched"  # zero blocks: the empty launch it always was
    assert lines[3] == "M=8: launched"
    assert lines[4] == "empty: (0,)"


# -- aliasing: an output sharing memory with another argument ---------------
ALIAS_KERNEL = """
import numpy as np
import tessel
import tessel.language as T

@tessel.jit(target=TARGET)
def rotate(N=64, in_place=False):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32"), Y: T.Tensor((N,), "float32", in_place=in_place)):
        with T.Kernel(1, threads=64) as bx:
            for i in T.Parallel(N):
                Y[i] = X[(i + 1) % N] + 1.0
    return main

def attempt(kernel, x, y):
    try:
        kernel(x, y)
        return "ran"
    except ValueError as e:
        return str(e)

kernel = rotate()
x = np.arange(64, dtype=np.float32)
print(attempt(kernel, x, x))                      # the same array twice
big = np.arange(128, dtype=np.float32)
print(attempt(kernel, big[:64], big[32:96]))      # overlapping views
print(attempt(kernel, big[:64], big[64:]))        # adjacent: fine
assert (big[64:] == np.roll(np.arange(64), -1) + 1).all()
# a kernel that says it works in place is let through
print(attempt(rotate(in_place=True), x, x))
"""


@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_an_output_sharing_memory_with_an_input_is_refused(tmp_path, target):
    script = tmp_path / "alias.py"
    script.write_text(ALIAS_KERNEL.replace("TARGET", repr(target)))
    env = dict(os.environ, TESSEL_CACHE_DIR=str(tmp_path / "cache"))
    if target == "cuda":
        env["TESSEL_CUDA_DRIVER"] = "emu"
    out = subprocess.run(["python3", str(script)], capture_output=True, text=True, env=env,
                         timeout=300)
    if target == "cuda" and out.returncode and "emulator" in out.stderr:
        pytest.skip("the emulator is not built here")
    assert out.returncode == 0, out.stderr[-2000:]
    refused = ("rotate(): output 'Y' and argument 'X' share memory; pass separate arrays, "
               "or declare the parameter T.Tensor(..., in_place=True) if the kernel is "
               "written to work in place")
    # before: all four ran, the first two silently wrong
    assert out.stdout.splitlines() == [refused, refused, "ran", "ran"], out.stdout


# -- the register budget on sm_90a -----------------------------------------
BIG_FRAGMENT = """import tessel.language as T
def k(threads=128, cols=4096):
    @T.prim_func
    def main(A: T.Tensor((128, cols), "float32")):
        with T.Kernel(1, threads=threads) as bx:
            acc = T.alloc_fragment((128, cols), "float32")
            T.fill(acc, 0)
            T.copy(acc, A)
    return main
"""


def test_a_fragment_past_the_register_file_is_refused_before_lowering(tmp_path):
    # Before: minutes of LLVM and 23 GB of memory, then spills.
    out = _tesselc(tmp_path, BIG_FRAGMENT, "--emit", "ptx")
    assert out.returncode == 1, out.stderr[-400:]
    assert out.stderr.startswith(
        "%s:6:19: error: the fragment (128x4096xf32) needs 4096 registers per thread "
        "(4096 elements of 'f32' per thread over 128 threads); a thread has at most 255"
        % (tmp_path / "case.py")), out.stderr
    # Few threads: the same tile in a 32-thread block.
    out = _tesselc(tmp_path, BIG_FRAGMENT, "--emit", "ptx", "-D", "threads=32", "-D", "cols=64")
    assert out.returncode == 1 and "needs 256 registers per thread" in out.stderr, out.stderr
    # What a GEMM's accumulator takes compiles.
    out = _tesselc(tmp_path, BIG_FRAGMENT, "--emit", "ptx", "-D", "cols=128")
    assert out.returncode == 0, out.stderr


def test_compile_time_integers_agree_with_python():
    # Random operands around the 64-bit edges and past them, every operator:
    # the frontend asserts each result equals Python's own.
    import random
    rng = random.Random(17)
    edges = [0, 1, -1, 2**31, 2**32 - 1, 2**63 - 1, -2**63, 2**64, -2**64 - 5, 3**50, -7**40]
    lines = []
    for _ in range(300):
        a = rng.choice(edges) + rng.randint(-3, 3)
        b = rng.choice(edges) + rng.randint(-3, 3)
        op = rng.choice(["+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>", "**", "<", "=="])
        if op in ("//", "%") and b == 0:
            continue
        if op in ("<<", ">>"):
            b = rng.randint(0, 130)
        if op == "**":
            a, b = rng.randint(-40, 40), rng.randint(0, 40)
        expected = eval("(%d) %s (%d)" % (a, op, b))
        lines.append("    assert ((%d) %s (%d)) == (%d), '%d %s %d'" % (a, op, b, expected, a, op, b))
    # Inside a function that defines x: a failed assert makes x an error
    # where the kernel uses it.
    host = "def check():\n" + "\n".join(lines) + "\n    return 1\nx = check()"
    result = _compile(_value_kernel(host))
    assert result.ok, result.diagnostics[:600]
    wrong = _compile(_value_kernel("def check():\n    assert 2**64 + 1 == 1, 'wraps'\n"
                                   "    return 1\nx = check()"))
    assert not wrong.ok and "assertion failed: wraps" in wrong.diagnostics


def test_a_dynamic_expression_grown_by_a_host_loop_stops():
    # Each step copied the whole expression: 20,000 steps ran for more than
    # five minutes (found while testing deep input). Now a located error.
    source = ("import tessel.language as T\n"
              "def k():\n"
              "    M = T.dynamic('M')\n"
              "    n = M\n"
              "    for i in range(20000):\n"
              "        n = (n * M) // 2 + i\n"
              "    @T.prim_func\n"
              "    def main(A: T.Tensor((n,), 'float32')):\n"
              "        with T.Kernel(1, threads=32) as bx:\n"
              "            A[0] = 1.0\n"
              "    return main\n")
    result = _compile(source)
    assert result.diagnostics.startswith(
        "case.py:6:16: error: this expression over T.dynamic dimensions is longer than 4096 "
        "characters"), result.diagnostics


GROWTH_CASES = [
    # each ran for minutes or took gigabytes before (found while testing)
    ("t = [0] * 65530\n    for i in range(100):\n        t = t + [i]",
     "this tuple would have more than 65536 elements"),
    ("t = [0, 0, 0, 0] * 2**62", "this tuple would have more than 65536 elements"),  # wrapped past the check
    ("s = 'ab'\n    for i in range(40):\n        s = s + s", "this string would be longer than 1048576 characters"),
]


@pytest.mark.parametrize("body,message", GROWTH_CASES, ids=["concat", "repeat_wrap", "string"])
def test_compile_time_values_do_not_grow_without_bound(body, message):
    host = "def grow():\n    " + body + "\n    return 1\nx = grow()"
    result = _compile(_value_kernel(host))
    assert not result.ok and message in result.diagnostics, result.diagnostics[:300]


# Found by a review of this change: each assertion failed (or crashed) with
# the first version of exact integers, or before it.
REVIEWED = [
    "max(-2**63, 1) == 1",             # max/min subtracted: acc - x past int64 read as 0
    "min(2**63 - 1, -1) == -1",
    "max(2**64, 1) == 2**64",
    "2**2049 > 0",                      # ** refused below 4096 bits
    "4**1500 == 1 << 3000",
    "T.ceildiv(-2**63, -1) == 2**63",   # INT64_MIN / -1: SIGFPE
    "T.ceildiv(-7, 2) == -3",
    "abs(-2**63) == 2**63",             # signed overflow
    "int(1e300) > 10**299",             # an out-of-range cast (UB)
    "int(-2.5) == -2",
    "len(() * 2**62) == 0",             # looped 2**62 times
    "10**400 / 10**399 == 10.0",        # inf / inf: NaN
    "2**64 + 1 > 2.0**64",              # compared as doubles
    "not (2**64 + 1 == 2.0**64)",
    "2**64 == 2.0**64",
    "2**64 in (1, 2**64)",
    "2**65 not in (1, 2**64)",
]


@pytest.mark.parametrize("expr", REVIEWED)
def test_reviewed_integer_cases(expr):
    host = "def check():\n    assert %s, 'failed'\n    return 1\nx = check()" % expr
    result = _compile(_value_kernel(host))
    assert result.ok, result.diagnostics[:300]


def test_a_doubling_loop_stops_at_the_size_limit_quickly():
    # Held as decimal text, each step of `block *= 2` converted thousands of
    # digits: 56 s under ASan to reach the limit (a fuzzer slow unit).
    import time
    host = ("def f(K):\n    block = 16\n    while block * K // 4:\n        block *= 2\n"
            "    return block\nx = f(1024)")
    start = time.perf_counter()
    result = _compile(_value_kernel(host))
    assert "this integer would need more than 4096 bits" in result.diagnostics
    assert time.perf_counter() - start < 5


def test_a_closure_made_at_the_top_level_keeps_its_scope():
    # The top-level statement ran on a probe Emitter whose scopes were
    # emptied when it ended (to break closure cycles): `triple` lost `n`.
    host = ("def make(n):\n    def scale(v):\n        return v * n\n    return scale\n"
            "triple = make(3)\nx = triple(2.0)")
    result = _compile(_value_kernel(host))
    assert result.ok, result.diagnostics[:300]
    assert ("6.000000e+00", "f32") in _constants(result)


def test_aliasing_of_device_tensors_is_judged_by_their_bytes():
    # The torch-like branch of the check (data_ptr, numel, element_size),
    # which the emulator tests above do not reach (numpy arrays are copied).
    from types import SimpleNamespace
    from tessel import _runtime

    class Tensor:
        def __init__(self, pointer, numel, size=4):
            self.pointer, self.n, self.size = pointer, numel, size

        def data_ptr(self):
            return self.pointer

        def numel(self):
            return self.n

        def element_size(self):
            return self.size

    kernel = SimpleNamespace(name="k")
    params = [SimpleNamespace(name="X", is_written=False, in_place=False),
              SimpleNamespace(name="Y", is_written=True, in_place=False)]
    _runtime._check_aliasing(kernel, params, {0: Tensor(0x1000, 64), 1: Tensor(0x1100, 64)})
    with pytest.raises(ValueError, match="output 'Y' and argument 'X' share memory"):
        _runtime._check_aliasing(kernel, params, {0: Tensor(0x1000, 64), 1: Tensor(0x10FC, 64)})
    _runtime._check_aliasing(kernel, params, {0: Tensor(0x1000, 0), 1: Tensor(0x1000, 64)})
    params[1].in_place = True
    _runtime._check_aliasing(kernel, params, {0: Tensor(0x1000, 64), 1: Tensor(0x1000, 64)})
