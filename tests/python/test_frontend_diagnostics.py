"""Every frontend error is one located message: file:line:col, the source
line, and a caret under the column."""

import os
import subprocess

import pytest

from tessel import _tessel

HEADER = "import tessel\nimport tessel.language as T\n"

# Each case: a kernel (entry `k`, after HEADER, so its first line is line 3),
# the -D values, and the expected "line:col: error: message" prefix.
CASES = [
    # -- syntax ------------------------------------------------------------
    ("missing_colon", "def k()\n    pass\n", {}, "3:8: error: expected ':' after the function signature"),
    ("bad_indent", "def k():\n    x = 1\n      y = 2\n", {}, "5:7: error: unexpected indent"),
    ("bad_dedent", "def k():\n    if True:\n        x = 1\n      y = 2\n", {}, "6:7: error: unindent does not match any outer indentation level"),
    ("no_block", "def k():\nreturn 1\n", {}, "4:1: error: expected an indented block after the function signature"),
    ("unclosed_paren", "def k():\n    x = (1, 2\n", {}, "4:9: error: '(' was never closed"),
    ("unmatched_paren", "def k():\n    x = 1)\n", {}, "4:10: error: unmatched ')'"),
    ("mismatched_bracket", "def k():\n    x = [1, 2)\n", {}, "4:14: error: closing ')' does not match '['"),
    ("unterminated_string", "def k():\n    x = 'abc\n", {}, "4:9: error: unterminated string literal"),
    ("bad_char", "def k():\n    x = 1 $ 2\n", {}, "4:11: error: unexpected character '$'"),
    ("non_ascii", "def k():\n    x = 1 \u00b7 2\n", {}, "4:11: error: unexpected non-ASCII character outside a string"),
    ("expected_expr", "def k():\n    x = \n", {}, "4:9: error: expected an expression, found end of line"),
    ("kw_then_positional", "def k():\n    f(a=1, 2)\n", {}, "4:12: error: positional argument follows keyword argument"),
    ("repeated_kw", "def k():\n    f(a=1, a=2)\n", {}, "4:12: error: keyword argument 'a' is repeated"),
    ("assign_to_call", "def k():\n    f() = 1\n", {}, "4:5: error: cannot assign to a function call"),
    ("default_order", "def k(a=1, b):\n    pass\n", {}, "3:12: error: parameter without a default follows one with a default"),
    # -- Python constructs kernels do not have ----------------------------
    ("class", "class K:\n    pass\ndef k():\n    return K\n", {}, "6:12: error: 'K' is defined at line 3 by host code: 'class' definitions are not supported in Tessel kernels"),
    ("lambda", "def k():\n    f = lambda x: x\n", {}, "4:9: error: lambda expressions are not supported in Tessel kernels"),
    ("try", "def k():\n    try:\n        pass\n    except ValueError:\n        pass\n", {}, "4:5: error: 'try' statements are not supported in Tessel kernels"),
    ("comprehension", "def k():\n    x = [i for i in range(3) if T.dynamic('n')]\n", {}, "4:33: error: a comprehension's condition must be known at compile time"),
    ("dict_comprehension", "def k():\n    x = {i: i for i in range(3)}\n", {}, "4:9: error: dict and set literals are not supported in Tessel kernels"),
    ("comprehension_over_int", "def k():\n    x = [i for i in 3]\n", {}, "4:21: error: cannot iterate over an int at compile time"),
    ("dict", "def k():\n    x = {1: 2}\n", {}, "4:9: error: dict and set literals are not supported in Tessel kernels"),
    ("fstring", "def k():\n    x = f'{y}'\n", {}, "4:9: error: f-strings are not supported in Tessel kernels"),
    ("walrus", "def k():\n    if (x := 1):\n        pass\n", {}, "4:11: error: assignment expressions (:=) are not supported in Tessel kernels"),
    ("star_args", "def k(*args):\n    pass\n", {}, "3:1: error: 'k' takes *args, which Tessel cannot pass"),
    ("alloc_global_outside", "def k():\n    g = T.alloc_global((4,), 'float32')\n", {}, "4:9: error: T.alloc_global can only be used inside a @T.prim_func"),
    ("try_no_handler", "def k():\n    try:\n        pass\n    x = 1\n", {}, "6:5: error: expected 'except' or 'finally' after the 'try' block"),
    ("generator", "def k():\n    x = max(i for i in range(3))\n    assert x == 3, 'max of 0..2 is ' + str(x)\n", {}, "5:5: error: assertion failed: max of 0..2 is 2"),
    ("ellipsis_value", "def k():\n    x = ...\n", {}, "4:9: error: '...' has no value in Tessel kernels"),
    ("starred", "def k():\n    x = len(*y)\n", {}, "4:13: error: starred expressions are not supported in Tessel kernels"),
    ("del", "def k():\n    x = 1\n    del x\n", {}, "5:5: error: 'del' statements are not supported in Tessel kernels"),
    ("raise", "def k(n=3):\n    if n % 2:\n        raise ValueError('n must be even')\n", {}, "5:9: error: the kernel's code raised ValueError: n must be even"),
    ("async_def", "async def f():\n    pass\ndef k():\n    return f\n", {}, "6:12: error: 'f' is defined at line 3 by host code: 'async' is not supported"),
    ("complex_literal", "def k():\n    x = 1j\n", {}, "4:9: error: complex numbers are not supported in Tessel kernels"),
    ("host_def_reached", "def h(x=torch.zeros(1)):\n    pass\ndef k():\n    h()\n", {}, "3:9: error: name 'torch' is not defined"),
    ("for_else", "def k():\n    for i in range(2):\n        pass\n    else:\n        pass\n", {}, "6:5: error: 'for ... else' is not supported in Tessel kernels"),
    ("global", "def k():\n    global x\n", {}, "4:5: error: 'global' declarations are not supported in Tessel kernels"),
    # -- names, arguments, values -----------------------------------------
    ("unknown_name", "def k(n):\n    return n + m\n", {"n": "1"}, "4:16: error: name 'm' is not defined"),
    ("missing_factory_arg", "def k(n):\n    return n\n", {}, "3:7: error: 'k' needs a value for 'n' (pass -D n=...)"),
    ("unknown_define", "def k(n=1):\n    return n\n", {"m": "2"}, "3:1: error: 'k' has no parameter 'm' (parameters: n)"),
    ("no_prim_func", "def k(n=1):\n    return n\n", {}, "3:1: error: 'k' must return a @T.prim_func, but it returned an int"),
    ("unknown_entry", "def f():\n    pass\n", {}, "1:1: error: no function named 'k' in this file"),
    ("division_by_zero", "def k(n=1):\n    x = n // 0\n", {}, "4:11: error: division by zero"),
    ("unknown_dtype", "def k():\n    @T.prim_func\n    def main(A: T.Tensor((4,), \"float17\")):\n        pass\n    return main\n", {}, "5:32: error: unknown dtype 'float17'"),
    ("tensor_needs_annotation", "def k():\n    @T.prim_func\n    def main(A):\n        pass\n    return main\n", {}, "5:14: error: parameter 'A' of a prim_func needs an annotation"),
    ("policy_member", "def k():\n    p = T.GemmWarpPolicy.Diagonal\n", {}, "4:26: error: T.GemmWarpPolicy has no member 'Diagonal'"),
    ("huge_range", "def k():\n    for i in range(10 ** 12):\n        pass\n", {}, "4:14: error: this compile-time range has more than 1048576 iterations"),
    ("huge_power", "def k():\n    x = 3 ** 100000\n", {}, "4:11: error: this integer would need more than 4096 bits"),
    ("huge_tuple", "def k():\n    x = (1, 2) * 10 ** 9\n", {}, "4:16: error: this tuple would have more than 65536 elements"),
    ("assert_fails", "def k(n=3):\n    assert n % 2 == 0, 'n must be even'\n", {}, "4:5: error: assertion failed: n must be even"),
]

KERNEL_CASES = [
    ("reinterpret_width", "x = T.reinterpret(A[0, 0], \"int32\")",
     "T.reinterpret keeps the bits: a 16-bit value cannot be read as a 32-bit type"),
    # -- T. primitives: arity, keywords, constants ------------------------
    ("copy_arity", "T.copy(A, a, A)", "T.copy() takes at most 2 arguments (src, dst), got 3"),
    ("gemm_keyword", "T.gemm(a, b, c, transpose_C=True)", "T.gemm() got an unexpected keyword argument 'transpose_C'"),
    ("gemm_missing", "T.gemm(a, b)", "T.gemm() is missing its 'C' argument"),
    ("gemm_k_mismatch", "T.gemm(a, a, c)", "T.gemm's K extents differ: A [64, 32] gives K = 32, B [64, 32] gives K = 64"),
    ("gemm_c_shape", "T.gemm(a, b, f)", "T.gemm's C must be [64, 64] for these operands, got [64, 32]"),
    ("gemm_accum_shared", "T.gemm(a, b, s)", "T.gemm accumulates into a fragment"),
    ("copy_shapes", "T.copy(A[0:32, 0:16], a)", "T.copy between regions of different shapes: [32, 16] and [64, 32]"),
    ("copy_no_extent", "T.copy(A[0, 0], A[1, 1])", "T.copy needs the extent of one side"),
    ("atomic_add_shapes", "T.atomic_add(s[0:32, 0:64], f)", "T.atomic_add between regions of different shapes: [64, 32] and [32, 64]"),
    ("atomic_add_rank", "T.atomic_add(r[0], f)", "this region has rank 1 but the other side of T.atomic_add has shape [64, 32]"),
    ("too_many_indices", "x = f[0, 1, 2]", "too many indices for 'f': it has rank 2"),
    ("non_constant_stages", "for i in T.Pipelined(4, num_stages=bx):\n                pass", "num_stages must be a compile-time integer, got a device scalar"),
    ("parallel_extent", "for i in T.Parallel(bx):\n                pass", "a T.Parallel extent must be a compile-time integer, got a device scalar"),
    ("alloc_shape", "t = T.alloc_shared((bx, 4), 'float16')", "a buffer dimension must be a compile-time integer, got a device scalar"),
    ("reduce_narrowing", "h = T.alloc_fragment((64,), 'float16')\n            T.reduce_max(f, h, dim=1)",
     "a reduction's destination must have the source's dtype or a wider one of the same kind (got f32 into f16)"),
    ("reduce_int_into_float", "n = T.alloc_fragment((64, 32), 'int32')\n            T.reduce_sum(n, r, dim=1)",
     "a reduction's destination must have the source's dtype or a wider one of the same kind (got i32 into f32)"),
    ("gemm_global_region", "T.gemm(A[0:64, 0:32], b, c)",
     "a region used as a whole tile here must be part of a shared or fragment buffer; copy it into one with T.copy first"),
    ("cumsum_global", "T.cumsum(A)", "T.cumsum's source must be a shared or fragment buffer"),
    ("cumsum_dim", "T.cumsum(s, dim=2)", "T.cumsum's dim is 2 but the buffer has rank 2"),
    ("cumsum_dst_shape", "T.cumsum(s, f)", "T.cumsum's destination must have the source's shape and dtype"),
    ("thread_dim", "tx = T.get_thread_binding(3)",
     "this T.Kernel has 1 thread dimension; thread dimension 3 does not exist"),
    ("thread_binding_extent", "for tx in T.thread_binding(64, thread='threadIdx.x'):\n                pass",
     "T.thread_binding over [0, 64) does not match the T.Kernel's threads along threadIdx.x (128)"),
    ("thread_binding_tag", "for tx in T.thread_binding(128, thread='blockIdx.x'):\n                pass",
     "T.thread_binding needs thread=\"threadIdx.x\", \"threadIdx.y\" or \"threadIdx.z\", got 'blockIdx.x'"),
    ("thread_index_in_parallel", "for i in T.Parallel(64):\n                A[i, T.get_thread_binding()] = 0",
     "this statement reads a thread index or a per-thread buffer inside a T.Parallel"),
    ("per_thread_index", "q = T.alloc_local((1,), 'float32')\n            q[1] = T.get_thread_binding()",
     "a per-thread buffer of shape (1,) is indexed by 0 only"),
    ("tile_op_per_thread", "if T.get_thread_binding() == 0:\n                T.copy(A[0:64, 0:32], a)",
     "T.copy inside a statement that runs once per thread (one that reads a thread index or a per-thread buffer) is not supported yet"),
    ("unpack_per_thread", "p, q = T.get_thread_binding(), 2",
     "unpacking per-thread values into several names is not supported yet; assign them one by one"),
    ("barrier_per_thread", "if T.get_thread_binding() < 4:\n                T.sync_threads()",
     "T.sync_threads inside a statement that runs once per thread"),
    ("unsigned_copy", "u = T.alloc_fragment((64, 32), T.uint8)\n            T.copy(u, f)",
     "T.copy between an unsigned and another dtype is not supported yet"),
    ("unsigned_reduce", "u = T.alloc_fragment((64, 32), T.uint8)\n            T.reduce_max(u, T.alloc_fragment((64,), T.uint8), dim=1)",
     "reductions over unsigned integers are not supported yet"),
    ("atomic_order", "T.atomic_add(A[0, 0], 1, memory_order='strict')",
     "T.atomic_add's memory_order is 'strict'; expected 'relaxed', 'consume', 'acquire', 'release', 'acq_rel' or 'seq_cst'"),
    ("atomic_return_prev_tile", "x = T.atomic_add(A[0:64, 0:32], f, return_prev=True)",
     "T.atomic_add(..., return_prev=True) adds a tile here; the previous value is returned only when adding to one element"),
    ("tensor_view", "v = T.Tensor((4096,), 'float16', A.data)",
     "'A.data' (a view of a tensor with another shape, T.Tensor(shape, dtype, buffer.data)) is not supported yet"),
    ("unknown_name", "x = T.no_such_thing(1)",
     "'T.no_such_thing' is not a Tessel primitive (docs/language.md lists TileLang's names and their status in Tessel)"),
    ("persistent_empty", "for t in T.Persistent([], 4, bx):\n                pass",
     "T.Persistent needs a domain of one or more extents"),
    ("reducer_op", "q = T.alloc_reducer((64,), 'float32', op='mean')",
     "T.alloc_reducer's op must be \"sum\", \"max\" or \"min\""),
    ("finalize_not_reducer", "T.finalize_reducer(r)", "T.finalize_reducer takes a buffer made by T.alloc_reducer"),
    ("reshape_count", "v = T.reshape(f, (64, 30))", "cannot view 2048 elements with a shape of 1920"),
    ("reshape_slice", "v = T.reshape(f, (64, 4, 8))\n            x = v[0, 0:2, 1]", "slices of reshaped views are not supported yet"),
    ("reshape_copy_into", "v = T.reshape(f, (64, 4, 8))\n            T.copy(A[0:64, 0:32], v)", "T.copy copies buffers and buffer regions, not a reshaped view"),
    ("alloc_var_no_dtype", "v = T.alloc_var()", "T.alloc_var() is missing its 'dtype' argument"),
    ("const_outside_eager", "n = T.const('N')", "T.const belongs to the eager style"),
    ("reduce_dim", "T.reduce_max(f, r, dim=2)", "dim 2 is out of range for a rank-2 source"),
    ("reduce_shape", "T.reduce_sum(f, r, dim=0)", "reducing [64, 32] along dim 0 gives [32], but the destination has shape [64]"),
    ("rebind_in_loop", "for i in T.serial(4):\n                bx = i", "cannot rebind 'bx' inside a device loop"),
    ("float_index", "x = f[0.5, 1]", "buffer indices must be integers, got a float"),
    ("fill_global", "T.fill(A, 0)", "T.fill writes on-chip buffers"),
    ("nested_kernel", "with T.Kernel(1) as by:\n                pass", "T.Kernel cannot be nested inside another T.Kernel"),
    ("device_while_break", "while bx < 3:\n                break", "'break' and 'continue' are not supported in device loops"),
    ("slice_extent", "T.copy(A[0:bx, 0:32], a)", "the extent of this slice must be known at compile time"),
    ("not_callable", "x = bx(1)", "a device scalar is not callable"),
    ("constant_out_of_bounds", "r[64] = 1.0", "store region [64, 65) in dim 0 is outside the tile of size 64"),
    ("copy_fit", "T.copy(A[0:64, 0:64], a[0, 0])", "region [64, 64] does not fit in 'a' of shape [64, 32]"),
]


def _compile(source, defines, name="case.py"):
    request = _tessel.KernelRequest()
    request.source = source
    request.file = name
    request.first_line = 1
    request.entry = "k"
    request.args = list(defines.items())
    result, _ = _tessel.compile_kernel_to_tile(request)
    return result


def _check_located(diagnostics, source, expected):
    first, line_text, caret = diagnostics.splitlines()[:3]
    line, col = (int(x) for x in expected.split(":")[:2])
    assert first.startswith("case.py:" + expected), diagnostics
    assert line_text == source.splitlines()[line - 1], diagnostics
    assert caret == " " * (col - 1) + "^", diagnostics


@pytest.mark.parametrize("name,body,defines,expected", CASES, ids=[c[0] for c in CASES])
def test_frontend_diagnostic(name, body, defines, expected):
    source = HEADER + body
    result = _compile(source, defines)
    assert not result.ok
    _check_located(result.diagnostics, source, expected)


KERNEL_TEMPLATE = HEADER + """def k():
    @T.prim_func
    def main(A: T.Tensor((64, 64), "float16")):
        with T.Kernel(2, threads=128) as bx:
            a = T.alloc_shared((64, 32), "float16")
            b = T.alloc_shared((32, 64), "float16")
            s = T.alloc_shared((64, 64), "float32")
            c = T.alloc_fragment((64, 64), "float32")
            f = T.alloc_fragment((64, 32), "float32")
            r = T.alloc_fragment((64,), "float32")
            {stmt}
    return main
"""
KERNEL_LINE = 13  # where {stmt} lands


@pytest.mark.parametrize("name,stmt,message", KERNEL_CASES, ids=[c[0] for c in KERNEL_CASES])
def test_kernel_diagnostic(name, stmt, message):
    source = KERNEL_TEMPLATE.format(stmt=stmt)
    result = _compile(source, {})
    assert not result.ok
    first = result.diagnostics.splitlines()[0]
    assert first.startswith("case.py:%d:" % KERNEL_LINE) or first.startswith(
        "case.py:%d:" % (KERNEL_LINE + 1)), result.diagnostics
    assert ": error: " + message in first, result.diagnostics
    line = int(first.split(":")[1])
    col = int(first.split(":")[2])
    assert result.diagnostics.splitlines()[1] == source.splitlines()[line - 1]
    assert result.diagnostics.splitlines()[2] == " " * (col - 1) + "^"


RETURN_TEMPLATE = HEADER + """def k():
    @T.prim_func
    def main(A: T.Tensor((4,), "int32")):
        def helper(bx):
{helper}
        with T.Kernel(2, threads=128) as bx:
            {call}
    return main
"""


@pytest.mark.parametrize("helper,call,message", [
    # the kernel body itself
    ("            return 0", "return", "'return' inside a T.Kernel is not supported"),
    # a helper returning from inside a device loop, or a branch on a device value
    ("            for i in T.serial(4):\n                return i", "x = helper(bx)",
     "a function called in a kernel can return only from its top level, not from "
     "inside a device loop or a branch on a device value"),
    ("            if bx > 0:\n                return 1\n            return 0", "x = helper(bx)",
     "a function called in a kernel can return only from its top level"),
], ids=["kernel_body", "helper_loop", "helper_branch"])
def test_return_in_kernel_code(helper, call, message):
    source = RETURN_TEMPLATE.format(helper=helper, call=call)
    result = _compile(source, {})
    assert not result.ok
    first = result.diagnostics.splitlines()[0]
    assert ": error: " + message in first, result.diagnostics
    line, col = (int(x) for x in first.split(":")[1:3])
    assert source.splitlines()[line - 1][col - 1:].startswith("return"), result.diagnostics


def test_valid_template_compiles():
    result = _compile(KERNEL_TEMPLATE.format(stmt="T.gemm(a, b, c)"), {})
    assert result.ok, result.diagnostics
    assert "tile.gemm" in result.output


def test_tesselc_reports_and_exits_1(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(HEADER + "def k(n):\n    return n + m\n")
    build = os.environ.get("TESSEL_BUILD_DIR",
                           os.path.join(os.path.dirname(__file__), "..", "..", "build"))
    out = subprocess.run([os.path.join(build, "bin", "tesselc"), str(path), "--entry", "k",
                          "-D", "n=1"], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.startswith("%s:4:16: error: name 'm' is not defined\n" % path)
    assert out.stderr.splitlines()[2] == " " * 15 + "^"
    bad_define = subprocess.run([os.path.join(build, "bin", "tesselc"), str(path), "--entry", "k",
                                 "-D", "n"], capture_output=True, text=True)
    assert bad_define.returncode == 1
    assert "bad -D 'n': expected NAME=VALUE" in bad_define.stderr


def test_host_side_dicts_read_until_a_kernel_uses_them():
    # A module's config table and an autotune decorator's dicts: fine while
    # only the host uses them; kernel code that does is a located error.
    source = HEADER + (
        "CONFIGS = [{'block': 64}, {'block': 128}]\n"
        "@tessel.autotune(configs=[{'block': 32}], key=['n'])\n"
        "@tessel.jit(out_idx=[-1])\n"
        "def k(n=4, use=False):\n"
        "    @T.prim_func\n"
        "    def main(A: T.Tensor((n,), \"float32\")):\n"
        "        with T.Kernel(1) as bx:\n"
        "            if use:\n"
        "                A[0] = CONFIGS[0]\n"
        "    return main\n")
    assert _compile(source, {}).ok
    result = _compile(source, {"use": "True"})
    assert not result.ok
    _check_located(result.diagnostics, source,
                   "11:24: error: 'CONFIGS' is defined at line 3 by host code Tessel cannot evaluate "
                   "(dict and set literals are not supported in Tessel kernels)")
