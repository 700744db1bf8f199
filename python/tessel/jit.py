"""``tessel.jit``: compile a kernel factory (or a prim_func) written in Python syntax.

Python never runs the kernel body. ``jit`` hands the C++ frontend the
function's source text, its file and first line, the factory's arguments and
the values of the free names the text uses; the frontend evaluates what is
known at compile time and emits the tile dialect.
"""

from __future__ import annotations

import builtins
import inspect
import os
import types
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from tessel.errors import CompileError

__all__ = ["jit", "JITFunction", "Kernel"]

_BUILTIN_NAMES = set(dir(builtins))


def _literal(value: Any) -> Optional[str]:
    """The Python-literal text of a value the kernel language can hold, else None."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (tuple, list)):
        parts = [_literal(v) for v in value]
        if any(p is None for p in parts):
            return None
        if isinstance(value, tuple):
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        return "[" + ", ".join(parts) + "]"
    dtype_name = _dtype_name(value)
    if dtype_name is not None:
        return dtype_name
    dynamic_name = getattr(value, "_tessel_dynamic_name", None)
    if isinstance(dynamic_name, str):
        return "T.dynamic(%r)" % dynamic_name
    return None


def _dtype_name(value: Any) -> Optional[str]:
    try:
        from tessel import language
    except ImportError:  # pragma: no cover - language is part of the package
        return None
    dtype_class = getattr(language, "DType", None)
    if dtype_class is not None and isinstance(value, dtype_class):
        return value.name
    return None


def _code_names(code: types.CodeType) -> Iterable[str]:
    """Every global, attribute and free name a code object or its nested
    functions mention."""
    yield from code.co_names
    yield from code.co_freevars
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def _source_names(fn: types.FunctionType) -> List[str]:
    """The names the function's text mentions outside its code object: its
    defaults, annotations and decorators (evaluated where the def runs,
    which for the frontend is the kernel text)."""
    import ast
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return []
    names: List[str] = []
    for node in tree.body[:1]:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        parts: List[Any] = list(node.decorator_list) + list(node.args.defaults)
        parts += [d for d in node.args.kw_defaults if d is not None]
        parts += [a.annotation for a in node.args.args + node.args.kwonlyargs
                  if a.annotation is not None]
        if node.returns is not None:
            parts.append(node.returns)
        # Annotations inside the body (the eager style's `A: T.Tensor[...]`)
        # are not in the code object under `from __future__ import annotations`.
        parts += [n.annotation for n in ast.walk(node) if isinstance(n, ast.AnnAssign)]
        parts += [a.annotation for n in ast.walk(node)
                  if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n is not node
                  for a in n.args.args if a.annotation is not None]
        parts += [d for n in ast.walk(node)
                  if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n is not node
                  for d in n.args.defaults]
        for part in parts:
            names += [n.id for n in ast.walk(part) if isinstance(n, ast.Name)]
    return names


def _wrapped_function(obj: Any) -> Optional[types.FunctionType]:
    """The Python function behind a T.macro / T.prim_func wrapper, or a plain function."""
    fn = getattr(obj, "fn", None)
    if isinstance(fn, types.FunctionType):
        return fn
    if isinstance(obj, JITFunction):
        return obj.fn
    if isinstance(obj, types.FunctionType):
        return obj
    return None


def _tessel_object_path(value: Any) -> Optional[str]:
    """'tessel.jit', 'tessel.language.copy', ...: Tessel's own callables and
    classes, which the frontend knows as builtins."""
    if value is jit:
        return "tessel.jit"
    module = getattr(value, "__module__", None)
    name = getattr(value, "__name__", None)
    # tessel.autotune, tessel.cdiv, tessel.next_power_of_2 wherever they
    # were imported from (tessel, tessel.autotune, tessel.math, ...).
    if (module in ("tessel.autotune", "tessel.config", "tessel.math")
            and name in ("autotune", "cdiv", "next_power_of_2")):
        return "tessel." + name
    if module == "tessel.language" and isinstance(name, str) and not hasattr(value, "fn"):
        return "tessel.language." + name
    return None


def _binding(name: str, value: Any, native: Any) -> Any:
    from tessel.carver import arch

    if value is arch.driver:
        return native.KernelBinding(name, native.BindingKind.Module, "tessel.carver.arch.driver",
                                    "", 1)
    if isinstance(value, types.ModuleType):
        return native.KernelBinding(name, native.BindingKind.Module, value.__name__, "", 1)
    path = _tessel_object_path(value)
    if path is not None:
        return native.KernelBinding(name, native.BindingKind.Module, path, "", 1)
    text = _literal(value)
    if text is not None:
        return native.KernelBinding(name, native.BindingKind.Literal, text, "", 1)
    fn = _wrapped_function(value)
    if fn is not None:
        try:
            lines, first = inspect.getsourcelines(fn)
            file = inspect.getsourcefile(fn) or "<unknown>"
        except (OSError, TypeError):
            lines, first, file = None, 1, ""
        if lines is not None:
            return native.KernelBinding(name, native.BindingKind.Function,
                                        "".join(lines), file, first)
    return native.KernelBinding(name, native.BindingKind.Unsupported,
                                type(value).__name__, "", 1)


def _free_bindings(fn: types.FunctionType, native: Any) -> List[Any]:
    """Bindings for the names the kernel text may look up: closure cells first,
    then globals. Unconvertible values are passed as such, so that only a
    kernel that really uses one gets an error (with its location)."""
    values: Dict[str, Any] = {}
    # The kernel's own names, then those of the helpers (T.macro or plain
    # functions) it uses, whose text the frontend evaluates too: a module
    # constant only a macro mentions is a free name of the kernel.
    pending, seen = [fn], set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        found: Dict[str, Any] = {}
        if current.__closure__:
            for name, cell in zip(current.__code__.co_freevars, current.__closure__):
                try:
                    found[name] = cell.cell_contents
                except ValueError:  # an empty cell: the name is not bound yet
                    continue
        for name in list(_code_names(current.__code__)) + _source_names(current):
            if name not in found and name in current.__globals__:
                found[name] = current.__globals__[name]
        for name, value in found.items():
            if name in values:
                continue
            values[name] = value
            helper = _wrapped_function(value)
            if helper is not None and not isinstance(value, JITFunction):
                pending.append(helper)
    # Decorators are evaluated outside the function's code: hand over the
    # modules and Tessel objects of its module too.
    for name, value in fn.__globals__.items():
        if name not in values and (isinstance(value, types.ModuleType)
                                   or _tessel_object_path(value) is not None):
            values[name] = value
    bindings = [_binding(name, value, native) for name, value in values.items()
                if value is not fn]
    from tessel.carver import arch

    try:
        mentions = "get_num_sms" in inspect.getsource(fn)
    except (OSError, TypeError):
        mentions = False
    if mentions or any(value is arch.driver or value is arch for value in values.values()):
        # driver.get_num_sms() is evaluated by the frontend from this value.
        bindings.append(native.KernelBinding("__tessel_num_sms__", native.BindingKind.Literal,
                                             repr(arch.driver.get_num_sms()), "", 1))
    return bindings


class Kernel:
    """A compiled kernel: its IR at each stage, and a callable on its target."""

    def __init__(self, name: str, target: str, out_idx: Optional[Sequence[int]],
                 tile_ir: str, signature: Any, located_ir: str = "") -> None:
        self.name = name
        self._located = located_ir or tile_ir
        self._cuda_kernel: Any = None
        self._cuda_launcher: Any = None
        self.target = target
        self.signature = signature
        # out_idx counts the prim_func's own parameters; T.alloc_global's
        # workspaces come after them.
        n = sum(1 for p in signature.params if not getattr(p, "is_workspace", False))
        for i in out_idx or []:
            if not -n <= i < n:
                raise ValueError("%s: out_idx %d is out of range for %d parameters"
                                 % (name, i, n))
        self.out_idx = sorted({i % n for i in (out_idx or [])}) if n else []
        self._sources = {"tile": tile_ir}
        self._cpu_module: Any = None
        self.tma = True
        self.warp_specialize = True
        self.fast_math = False

    def get_source(self, kind: str = "tile") -> str:
        """The kernel at one stage: ``"tile"`` (after the frontend),
        ``"cpu-llvm"`` (the LLVM IR the CPU backend runs), ``"llvm"`` (the
        NVPTX LLVM IR the PTX comes from) or ``"ptx"`` (what the cuda target
        runs, for sm_90a unless the target names another)."""
        if kind == "cpu-llvm" and kind not in self._sources:
            self._sources[kind] = self._cpu().llvm_ir
        if kind == "ptx" and kind not in self._sources:
            self._sources[kind] = "\n".join(k.ptx for k in self._cuda_kernels())
        if kind == "llvm" and kind not in self._sources:
            count = self._kernel_count()
            self._sources[kind] = "\n".join(
                self._compile_cuda(cubin=False, llvm_ir=True,
                                   kernel_index=-1 if count == 1 else i).llvm_ir
                for i in range(count))
        if kind not in self._sources:
            raise ValueError(
                "no %r source for kernel %r; available: %s"
                % (kind, self.name,
                   ", ".join(sorted(set(self._sources) | {"cpu-llvm", "llvm", "ptx"}))))
        return self._sources[kind]

    def get_kernel_source(self, kernel_only: bool = False) -> str:
        """TileLang's name for the code that runs: the PTX on the cuda target,
        the LLVM IR the CPU backend runs on the CPU."""
        return self.get_source("ptx" if self.target.startswith("cuda") else "cpu-llvm")

    def get_profiler(self, tensor_supply_type: Any = None) -> Any:
        """A :class:`tessel.profiler.Profiler` for this kernel (TileLang's API:
        ``assert_allclose``, ``do_bench``, ``run_once``)."""
        from tessel.profiler import Profiler, TensorSupplyType

        return Profiler(self, TensorSupplyType.Auto if tensor_supply_type is None
                        else tensor_supply_type)

    @property
    def params(self) -> List[Any]:
        """The kernel's parameters (name, dtype, shape)."""
        return list(self.signature.params)

    def _cpu(self) -> Any:
        if self._cpu_module is None:
            from tessel import _tessel

            try:
                self._cpu_module = _tessel.CPUModule.compile(self._sources["tile"])
            except ValueError as err:
                raise CompileError(str(err)) from None
        return self._cpu_module

    def _cuda(self) -> Any:
        """The kernel compiled for an NVIDIA GPU (PTX, and a cubin when
        ptxas is present); the first of several T.Kernels."""
        return self._cuda_kernels()[0]

    def _kernel_count(self) -> int:
        # The frontend prints each T.Kernel as one tile.kernel op.
        return max(1, self._located.count("tile.kernel grid("))

    def _cuda_kernels(self) -> List[Any]:
        """Every T.Kernel of the prim_func compiled for an NVIDIA GPU, in
        program order: a prim_func with several (a split-KV decoder and its
        combine) runs them one after another on the same stream."""
        if self._cuda_kernel is None:
            count = self._kernel_count()
            if count == 1:
                self._cuda_kernel = [self._compile_cuda()]
            else:
                self._cuda_kernel = [self._compile_cuda(kernel_index=i) for i in range(count)]
        return self._cuda_kernel

    def _compile_cuda(self, cubin: bool = True, llvm_ir: bool = False,
                      kernel_index: int = -1) -> Any:
        from tessel import _cuda_cache, _tessel

        arch = self.target.split(":", 1)[1] if ":" in self.target else "sm_90a"
        # Without ptxas the kernel is PTX alone, which the driver's JIT (or
        # the emulator) loads.
        cubin = cubin and bool(_tessel.find_ptxas())
        # The kernel as it runs comes from the disk cache when an earlier
        # process compiled it (the LLVM IR view is always compiled).
        cache_key = None
        if cubin and not llvm_ir:
            cache_key = _cuda_cache.key(self._located, arch, self.tma, self.warp_specialize,
                                        self.fast_math, kernel_index)
            cached = _cuda_cache.read(cache_key)
            if cached is not None:
                return cached
        compiled = _tessel.compile_tile_to_cuda(self._located, arch, cubin=cubin, tma=self.tma,
                                                warp_specialize=self.warp_specialize,
                                                llvm_ir=llvm_ir, fast_math=self.fast_math,
                                                kernel_index=kernel_index)
        if not compiled.ok:
            raise CompileError(compiled.diagnostics)
        if cache_key is not None:
            _cuda_cache.write(cache_key, compiled)
        return compiled

    def __call__(self, *args: Any) -> Any:
        from tessel import _runtime

        if self.target == "cpu":
            return _runtime.run_on_cpu(self, self._cpu(), args)
        if self.target.startswith("cuda"):
            return _runtime.run_on_cuda(self, self._cuda_kernels(), args)
        raise NotImplementedError(
            "kernel %r targets %r, which this build of Tessel cannot run yet; "
            "use tessel.jit(target=\"cpu\") or target=\"cuda\""
            % (self.name, self.target))


class JITFunction:
    """What ``@tessel.jit`` returns: call it with the factory's arguments to get a Kernel."""

    def __init__(self, fn: types.FunctionType, out_idx: Optional[Sequence[int]],
                 target: str) -> None:
        self.fn = fn
        self.out_idx = _out_indices(out_idx)
        self.target = target
        self._cache: Dict[Any, Kernel] = {}
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        from tessel._eager import eager_info

        self.eager = eager_info(fn)

    def _request(self, args: Tuple[Any, ...], kwargs: Dict[str, Any],
                 consts: Optional[Dict[str, int]] = None,
                 shapes: Optional[Dict[str, Tuple[int, ...]]] = None) -> Any:
        from tessel import _tessel as native

        signature = inspect.signature(self.fn)
        try:
            if self.eager is not None:
                bound = signature.bind_partial(*args, **kwargs)
            else:
                bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            raise TypeError("%s(): %s" % (self.fn.__name__, err)) from None
        bound.apply_defaults()
        literal_args = []
        for name, value in bound.arguments.items():
            if self.eager is not None and name in self.eager.tensor_params:
                continue
            text = _literal(value)
            if text is None:
                raise TypeError(
                    "%s(): argument %r is a %s, which a kernel factory cannot take "
                    "(use ints, floats, bools, strings, dtypes or tuples of them)"
                    % (self.fn.__name__, name, type(value).__name__))
            literal_args.append((name, text))

        try:
            lines, first_line = inspect.getsourcelines(self.fn)
        except (OSError, TypeError) as err:
            raise CompileError("cannot read the source of %r (%s); Tessel compiles kernels "
                               "from their source text, so define them in a file"
                               % (self.fn.__name__, err)) from None
        request = native.KernelRequest()
        request.source = "".join(lines)
        request.file = inspect.getsourcefile(self.fn) or "<unknown>"
        request.first_line = first_line
        request.entry = self.fn.__name__
        request.args = literal_args
        request.bindings = _free_bindings(self.fn, native)
        if self.eager is not None:
            request.eager = True
            request.tensor_params = list(self.eager.tensor_params)
            request.consts = [(k, repr(int(v))) for k, v in sorted((consts or {}).items())]
            request.tensor_shapes = [(k, list(v)) for k, v in sorted((shapes or {}).items())]
        return request

    def compile(self, *args: Any, **kwargs: Any) -> Kernel:
        """The kernel for these arguments. In the eager style, name the
        T.const sizes as keywords (``matmul.compile(M=1024, N=1024, K=512)``)
        instead of passing tensors."""
        consts = None
        if self.eager is not None:
            consts = {k: kwargs.pop(k) for k in list(kwargs) if k in self.eager.const_names
                      and k not in inspect.signature(self.fn).parameters}
        return self._compile(args, kwargs, consts)

    def _compile(self, args: Tuple[Any, ...], kwargs: Dict[str, Any],
                 consts: Optional[Dict[str, int]],
                 shapes: Optional[Dict[str, Tuple[int, ...]]] = None) -> Kernel:
        from tessel import _tessel as native

        request = self._request(args, kwargs, consts, shapes)
        # Everything the IR depends on: a changed global or closure value
        # compiles anew instead of reusing a stale kernel.
        key = (tuple(request.args), tuple(request.consts),
               tuple((k, tuple(v)) for k, v in request.tensor_shapes), request.source,
               tuple((b.name, str(b.kind), b.text) for b in request.bindings))
        kernel = self._cache.get(key)
        if kernel is not None:
            return kernel
        result, signature = native.compile_kernel_to_tile(request)
        if not result.ok:
            raise CompileError(result.diagnostics)
        out_idx = list(signature.outputs) if self.eager is not None else self.out_idx
        kernel = Kernel(self.fn.__name__, _resolve_target(self.target), out_idx,
                        result.output, signature, result.located)
        kernel.tma = getattr(self, "tma", True)
        kernel.warp_specialize = getattr(self, "warp_specialize", True)
        kernel.fast_math = getattr(self, "fast_math", False)
        self._cache[key] = kernel
        return kernel

    def get_kernel_source(self, *args: Any, **kwargs: Any) -> str:
        """The kernel's code for these arguments (TileLang's
        ``jitted.get_kernel_source(**args)``): see Kernel.get_kernel_source."""
        return self.compile(*args, **kwargs).get_kernel_source()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """A factory: the Kernel for these arguments. The eager style: compile
        for these tensors (cached per sizes and arguments) and run it,
        returning its outputs."""
        if self.eager is None:
            return self.compile(*args, **kwargs)
        from tessel._eager import shape_of

        try:
            bound = inspect.signature(self.fn).bind_partial(*args, **kwargs)
        except TypeError as err:
            raise TypeError("%s(): %s" % (self.fn.__name__, err)) from None
        tensors = {n: bound.arguments[n] for n in self.eager.tensor_params
                   if n in bound.arguments}
        missing = [n for n in self.eager.tensor_params if n not in tensors]
        if missing:
            raise TypeError("%s(): missing tensor argument(s) %s" % (self.fn.__name__,
                                                                   ", ".join(missing)))
        rest = {n: v for n, v in bound.arguments.items() if n not in tensors}
        for n, v in rest.items():
            if hasattr(v, "shape") and hasattr(v, "dtype"):
                raise TypeError("%s(): argument %r is a tensor, but the function never annotates "
                                "it: write `%s: T.Tensor((M, N), dtype)` in its body"
                                % (self.fn.__name__, n, n))
        kernel = self._compile((), rest, {}, {n: shape_of(v) for n, v in tensors.items()})
        return kernel(*[tensors[n] for n in self.eager.tensor_params])


_GPU_ARCH: Optional[str] = None


def _usable_gpu_arch() -> str:
    """"sm_90a" when the CUDA driver ($TESSEL_CUDA_DRIVER, else libcuda.so.1;
    "emu" is Tessel's emulator) sees a Hopper GPU (the architecture the cuda
    target compiles for), else "". Asked once per process."""
    global _GPU_ARCH
    if _GPU_ARCH is None:
        _GPU_ARCH = ""
        import ctypes

        from tessel import _cuda

        try:
            cuda = ctypes.CDLL(_cuda.driver_path())
            count, major = ctypes.c_int(0), ctypes.c_int(0)
            if (cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0
                    and count.value > 0
                    # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR of device 0
                    and cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, 0) == 0
                    and major.value == 9):
                _GPU_ARCH = "sm_90a"
        except (OSError, AttributeError):
            pass
    return _GPU_ARCH


def _resolve_target(target: str) -> str:
    """"auto" (or TESSEL_TARGET="auto"): the cuda target when a GPU it
    compiles for is usable, else the CPU."""
    if target == "auto":
        target = os.environ.get("TESSEL_TARGET", "auto")
    if target == "auto":
        return "cuda:" + _usable_gpu_arch() if _usable_gpu_arch() else "cpu"
    if target == "cpu":
        return "cpu"
    if target == "cuda" or target.startswith("cuda:") or target.startswith("hip:"):
        return target
    raise ValueError("unknown target %r: use \"auto\", \"cpu\", \"cuda\", "
                     "\"cuda:sm_90a\" or \"hip:gfx942\"" % target)


def _out_indices(out_idx: Any) -> Optional[List[int]]:
    """TileLang's out_idx: an int (``-1``, ``0``, ``3``), a list or tuple of
    ints, or None for no outputs."""
    if out_idx is None:
        return None
    if isinstance(out_idx, builtins.bool):
        raise TypeError("tessel.jit: out_idx must be an int or a list of ints, got a bool")
    if isinstance(out_idx, int):
        return [out_idx]
    if isinstance(out_idx, (list, tuple)) and all(
            isinstance(i, int) and not isinstance(i, builtins.bool) for i in out_idx):
        return list(out_idx)
    raise TypeError("tessel.jit: out_idx must be an int or a list of ints, got %r" % (out_idx,))


# Options TileLang's jit takes that change nothing in Tessel: accepted, so
# that TileLang programs run unchanged (documented in docs/language.md).
_IGNORED_OPTIONS = ("execution_backend", "verbose", "compile_flags", "debug_root_path",
                    "lazy_jit")


def jit(fn: Any = None, *, out_idx: Any = None,
        target: str = "auto", tma: bool = True, warp_specialize: bool = True,
        fast_math: Optional[bool] = None, pass_configs: Optional[Dict[str, Any]] = None,
        **options: Any) -> Any:
    """Compile a kernel factory on first call with each set of arguments.

    Use as ``@tessel.jit`` or ``@tessel.jit(out_idx=[-1], target="cpu")``.
    On the cuda target, pipelined K-major tiles are loaded with TMA (the
    launch encodes the kernel's TMA descriptors; ``tma=False`` uses
    cp.async), and loops fed only by TMA get a producer warpgroup
    (``warp_specialize=False`` keeps one role).
    """
    unknown = sorted(set(options) - set(_IGNORED_OPTIONS))
    if unknown:
        raise TypeError("tessel.jit: unknown option(s) %s" % ", ".join(unknown))
    from tessel.config import FAST_MATH_DEFAULT, options_from_pass_configs

    configured = options_from_pass_configs(pass_configs)

    def wrap(f: Any) -> JITFunction:
        inner = _wrapped_function(f)
        if inner is None:
            raise TypeError("tessel.jit decorates a function, not a %s" % type(f).__name__)
        jf = JITFunction(inner, out_idx, target)
        jf.tma = bool(configured.get("tma", tma))
        jf.warp_specialize = bool(configured.get("warp_specialize", warp_specialize))
        jf.fast_math = bool(configured.get("fast_math", FAST_MATH_DEFAULT if fast_math is None
                                           else fast_math))
        return jf

    return wrap(fn) if fn is not None else wrap
