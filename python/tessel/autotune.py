"""``tessel.autotune``: pick the fastest configuration of a kernel factory.

Stacked on ``tessel.jit``::

    @tessel.autotune(configs=[{"block_M": 64}, {"block_M": 128}], key=["M", "N", "K"])
    @tessel.jit(out_idx=[-1])
    def matmul(M, N, K, block_M=128, ...): ...

    kernel = matmul(4096, 4096, 4096)   # tunes once, then from the cache

Calling the factory compiles every configuration (a dict of the factory's
keyword arguments) with the call's arguments, runs each on inputs made from
the kernel's signature on its target (the CPU, or the GPU through torch),
and returns the fastest kernel. Configurations that do not compile are
skipped, with their errors kept in ``kernel.autotune_results``. The winner is
remembered per value of the ``key`` arguments (all the call's arguments when
no key is given), in memory and on disk under ``$TESSEL_CACHE_DIR/autotune``
(``~/.cache/tessel``; ``off`` turns it off), keyed also on the factory's
source, the configurations, the target and the compiler build, so a later
process compiles only the winner and a changed kernel or compiler tunes
again.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence

from tessel import _disk_cache
from tessel.errors import CompileError
from tessel.jit import JITFunction, Kernel, _literal

__all__ = ["autotune", "Autotuner"]


# TileLang's autotune options Tessel accepts without a use: its timing and
# checks take their own defaults (documented in docs/language.md).
_TILELANG_OPTIONS = ("timeout", "supply_type", "ref_prog", "supply_prog", "rtol", "atol",
                     "max_mismatched_ratio", "skip_check", "manual_check_prog",
                     "cache_input_tensors", "target", "execution_backend")


class _NeedsInputs(ValueError):
    """The kernel's signature does not say what to tune on."""


def _random_inputs(kernel: Kernel) -> List[Any]:
    """One argument per input parameter: random floats, zeros for integers
    (a valid index everywhere), 1 for scalars. Dynamic dimensions have no
    size to invent: pass ``inputs=`` then."""
    from tessel import _runtime

    args = []
    for i, param in enumerate(kernel.signature.params):
        if i in kernel.out_idx or param.is_workspace:
            continue
        if not param.is_buffer:
            args.append(1 if param.dtype.startswith(("int", "bool")) else 1.0)
            continue
        if any(d < 0 for d in param.shape):
            raise _NeedsInputs("tessel.autotune: %s's argument %r has a dynamic dimension; "
                             "pass inputs=lambda kernel: [...] to say what to tune on"
                             % (kernel.name, param.name))
        if kernel.target == "cpu" or _on_emulator(kernel):
            import numpy as np

            dtype = _runtime.numpy_dtype(param.dtype)
            if dtype.kind == "f" or param.dtype.startswith(("bfloat", "float8")):
                rng = np.random.default_rng(len(args))
                args.append(rng.standard_normal(param.shape).astype(np.float32).astype(dtype))
            else:
                args.append(np.zeros(param.shape, dtype))
            continue
        import torch

        dtype = getattr(torch, {"float8_e4m3": "float8_e4m3fn"}.get(param.dtype, param.dtype))
        if dtype.is_floating_point:
            args.append(torch.randn(param.shape, device="cuda").to(dtype))
        else:
            args.append(torch.zeros(param.shape, device="cuda", dtype=dtype))
    return args


def _on_emulator(kernel: Kernel) -> bool:
    """A cuda-target kernel whose driver is Tessel's emulator (numpy in and
    out, and no time worth measuring)."""
    if not kernel.target.startswith("cuda"):
        return False
    from tessel import _cuda

    try:
        return _cuda.is_emulator()
    except _cuda.CUDAError:
        return False


def _time_ms(kernel: Kernel, args: Sequence[Any], warmup: int, rep: int) -> float:
    """The median of `rep` runs after `warmup` ones, in milliseconds."""
    cuda = kernel.target.startswith("cuda")
    sync: Callable[[], None] = lambda: None
    if cuda:
        import torch

        sync = torch.cuda.synchronize
    for _ in range(warmup):
        kernel(*args)
    sync()
    times = []
    for _ in range(rep):
        start = time.perf_counter()
        kernel(*args)
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2]


class Autotuner:
    """What ``@tessel.autotune`` returns: call it like the factory."""

    def __init__(self, jit_fn: JITFunction, configs: Sequence[Dict[str, Any]],
                 key: Optional[Sequence[str]], warmup: int, rep: int,
                 inputs: Optional[Callable[[Kernel], Sequence[Any]]], verbose: bool) -> None:
        parameters = inspect.signature(jit_fn.fn).parameters
        if callable(configs) and not isinstance(configs, (list, tuple)):
            configs = _configs_from_callable(configs, parameters)
        if not configs:
            raise ValueError("tessel.autotune: configs is empty")
        for config in configs:
            if not isinstance(config, dict):
                raise TypeError("tessel.autotune: each config is a dict of %s's keyword "
                                "arguments, got %s" % (jit_fn.__name__, type(config).__name__))
            for name, value in config.items():
                if name not in parameters:
                    raise TypeError("tessel.autotune: config %r names %r, which %s() does not "
                                    "take (parameters: %s)" % (config, name, jit_fn.__name__,
                                                               ", ".join(parameters)))
                if _literal(value) is None:
                    raise TypeError("tessel.autotune: config %r gives %r a %s" %
                                    (config, name, type(value).__name__))
        for name in key or []:
            if name not in parameters:
                raise TypeError("tessel.autotune: key names %r, which %s() does not take"
                                % (name, jit_fn.__name__))
        self.jit_fn = jit_fn
        self.configs = [dict(c) for c in configs]
        self.key = list(key) if key is not None else None
        self.warmup, self.rep = warmup, rep
        self.inputs = inputs
        self.verbose = verbose
        self._best: Dict[str, int] = {}
        self.__name__ = jit_fn.__name__
        self.__doc__ = jit_fn.__doc__

    def _cache_key(self, arguments: Dict[str, Any]) -> str:
        from tessel import _tessel
        from tessel.jit import _resolve_target

        names = self.key if self.key is not None else sorted(arguments)
        # An eager kernel's tensor shapes are always part of the key.
        names = list(names) + sorted(n for n in arguments
                                     if n.startswith("shape of ") and n not in names)
        try:
            source = inspect.getsource(self.jit_fn.fn)
        except (OSError, TypeError):
            source = self.jit_fn.__name__
        text = json.dumps({
            "factory": self.jit_fn.__name__, "source": source,
            "key": {n: _literal(arguments.get(n)) for n in names},
            "configs": [{k: _literal(v) for k, v in sorted(c.items())} for c in self.configs],
            "target": _resolve_target(self.jit_fn.target),
            "options": [getattr(self.jit_fn, "tma", True),
                        getattr(self.jit_fn, "warp_specialize", True),
                        getattr(self.jit_fn, "fast_math", False)],
            "compiler": _tessel.build_identity(),
        }, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def _say(self, text: str) -> None:
        if self.verbose:
            print("tessel.autotune: " + text, file=sys.stderr, flush=True)

    def compile(self, *args: Any, **kwargs: Any) -> Kernel:
        """The tuned kernel for these arguments, without running it (the
        eager style: sizes as keywords, as JITFunction.compile takes). A
        call that gives a tuned value itself compiles those values."""
        fn = self.jit_fn
        tuned = {n for c in self.configs for n in c}
        if tuned & set(kwargs):
            return fn.compile(*args, **kwargs)
        arguments = {k: v for k, v in kwargs.items()}
        arguments.update({"#%d" % i: v for i, v in enumerate(args)})
        return self._tune(lambda config: fn.compile(*args, **kwargs, **config), arguments, None)

    def get_tuner_result(self) -> Any:
        raise AttributeError("tessel.autotune keeps each tuned kernel's results in "
                             "kernel.autotune_results")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = self.jit_fn
        try:
            bound = inspect.signature(fn.fn).bind_partial(*args, **kwargs)
        except TypeError as err:
            raise TypeError("%s(): %s" % (fn.__name__, err)) from None
        # As in TileLang: a call that gives any tuned value itself is not
        # tuned; the factory runs with exactly the call's arguments.
        tuned = {n for c in self.configs for n in c}
        if tuned & set(bound.arguments):
            return fn(*args, **kwargs)
        if fn.eager is not None:
            # The eager style tunes on the call's tensors: the kernel is
            # chosen by compiling each configuration, then run on them.
            return self._tune_eager(bound)
        return self._tune(lambda config: fn(*args, **kwargs, **config), dict(bound.arguments),
                          None)

    def _tune_eager(self, bound: Any) -> Any:
        from tessel._eager import shape_of

        fn = self.jit_fn
        names = fn.eager.tensor_params
        tensors = {n: bound.arguments[n] for n in names if n in bound.arguments}
        missing = [n for n in names if n not in tensors]
        if missing:
            raise TypeError("%s(): missing tensor argument(s) %s" % (fn.__name__,
                                                                   ", ".join(missing)))
        rest = {n: v for n, v in bound.arguments.items() if n not in tensors}
        shapes = {n: shape_of(v) for n, v in tensors.items()}
        ordered = [tensors[n] for n in names]
        kernel = self._tune(lambda config: fn._compile((), {**rest, **config}, {}, shapes),
                            {**rest, **{"shape of " + n: s for n, s in shapes.items()}},
                            lambda kernel: ordered)
        return kernel(*ordered)

    def _tune(self, make: Callable[[Dict[str, Any]], Kernel], arguments: Dict[str, Any],
              call_inputs: Optional[Callable[[Kernel], Sequence[Any]]]) -> Kernel:
        """The fastest of the configurations: `make(config)` compiles one,
        timed on `call_inputs(kernel)` (the call's own tensors), else on
        ``inputs=`` or inputs made from the signature."""
        fn = self.jit_fn
        input_maker = self.inputs or call_inputs
        key = self._cache_key(arguments)
        directory = _disk_cache.directory("autotune")
        path = os.path.join(directory, key + ".json") if directory else None
        index = self._best.get(key)
        if index is None and path and os.path.exists(path):
            try:
                with open(path) as f:
                    entry = json.load(f)
                index = int(entry["index"])
                if not 0 <= index < len(self.configs) or entry["config"] != {
                        k: _literal(v) for k, v in self.configs[index].items()}:
                    index = None  # not this decorator's configs: tune again
            except (OSError, ValueError, KeyError, TypeError):
                index = None  # damaged: tune again and rewrite it
            if index is not None:
                self._say("%s: config %d/%d %s (cached)" % (fn.__name__, index + 1,
                                                            len(self.configs),
                                                            self.configs[index]))
        if index is not None:
            self._best[key] = index
            kernel = make(self.configs[index])
            kernel.config = dict(self.configs[index])
            return kernel

        results: List[Dict[str, Any]] = []
        best: Optional[Kernel] = None
        best_ms = float("inf")
        for i, config in enumerate(self.configs):
            try:
                kernel = make(config)
                if kernel.target.startswith("cuda"):
                    kernel._cuda()  # compile now: its errors are this config's
                else:
                    kernel._cpu()
                inputs = list(input_maker(kernel)) if input_maker else _random_inputs(kernel)
                if _on_emulator(kernel):
                    # The emulator models function, not time: the first
                    # configuration that runs is kept for this process (the
                    # next call reuses it, without a warning), not on disk.
                    from tessel import _cuda

                    try:
                        kernel(*inputs)
                    except _cuda.CUDAError as err:
                        results.append({"config": config, "error": str(err).splitlines()[0]})
                        self._say("%s: config %d/%d %s: failed on the emulator: %s"
                                  % (fn.__name__, i + 1, len(self.configs), config,
                                     str(err).splitlines()[0]))
                        continue
                    warnings.warn("tessel.autotune: %s() runs on Tessel's emulator, which cannot "
                                  "time kernels; keeping the first configuration that runs, %s"
                                  % (fn.__name__, config), stacklevel=2)
                    self._best[key] = i
                    kernel.config = dict(config)
                    kernel.autotune_results = results + [{"config": config, "ms": None}]
                    return kernel
                ms = _time_ms(kernel, inputs, self.warmup, self.rep)
            except _NeedsInputs:
                raise
            except (CompileError, TypeError, ValueError) as err:
                message = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
                results.append({"config": config, "error": message})
                self._say("%s: config %d/%d %s: skipped: %s"
                          % (fn.__name__, i + 1, len(self.configs), config, message))
                continue
            results.append({"config": config, "ms": ms})
            self._say("%s: config %d/%d %s: %.3f ms"
                      % (fn.__name__, i + 1, len(self.configs), config, ms))
            if ms < best_ms:
                best, best_ms, index = kernel, ms, i
        if best is None or index is None:
            raise CompileError("tessel.autotune: no configuration of %s() ran:\n%s" % (
                fn.__name__, "\n".join("  %s: %s" % (r["config"], r["error"]) for r in results)))
        self._say("%s: chose config %d/%d %s (%.3f ms)" % (fn.__name__, index + 1,
                                                          len(self.configs),
                                                          self.configs[index], best_ms))
        self._best[key] = index
        if path:
            entry = {"index": index,
                     "config": {k: _literal(v) for k, v in self.configs[index].items()},
                     "results": [{"config": {k: _literal(v) for k, v in r["config"].items()},
                                  **{k: v for k, v in r.items() if k != "config"}}
                                 for r in results]}
            _disk_cache.write_atomically(directory, key + ".json", json.dumps(entry, indent=1))
        best.config = dict(self.configs[index])
        best.autotune_results = results
        return best


def _configs_from_callable(make: Callable[..., Any], parameters: Any) -> List[Dict[str, Any]]:
    """TileLang's configs may be a function of the factory's arguments that
    returns the list; Tessel calls it with no arguments (or its defaults)."""
    try:
        made = make()
    except TypeError as err:
        raise TypeError("tessel.autotune: configs is a function; Tessel calls it with no "
                        "arguments, which failed: %s" % err) from None
    return list(made)


def autotune(fn: Any = None, *, configs: Sequence[Dict[str, Any]],
             key: Optional[Sequence[str]] = None, warmup: int = 3, rep: int = 10,
             inputs: Optional[Callable[[Kernel], Sequence[Any]]] = None,
             verbose: bool = True, **tilelang_options: Any) -> Any:
    """Tune a ``tessel.jit`` factory over ``configs`` (dicts of its keyword
    arguments); see the module's documentation. ``inputs(kernel)`` returns
    the arguments to time with (by default: random floats, zeros for
    integer tensors, 1 for scalars); ``verbose`` prints each configuration's
    time (or error) to stderr while tuning."""

    unknown = sorted(set(tilelang_options) - set(_TILELANG_OPTIONS))
    if unknown:
        raise TypeError("tessel.autotune: unknown option(s) %s" % ", ".join(unknown))

    def wrap(f: Any) -> Autotuner:
        if not isinstance(f, JITFunction):
            raise TypeError("tessel.autotune decorates a tessel.jit function: put "
                            "@tessel.autotune(...) above @tessel.jit(...)")
        return Autotuner(f, configs, key, warmup, rep, inputs, verbose)

    return wrap(fn) if fn is not None else wrap
