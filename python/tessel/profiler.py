"""``kernel.get_profiler()`` and ``tessel.profiler.do_bench``, as TileLang has them.

A profiler makes inputs from the kernel's signature, runs the kernel, checks
it against a reference program and times it. On the CPU target and on
Tessel's emulator the inputs are numpy arrays and the timer is the host's
clock (so ``do_bench`` times the CPU, or the emulator, not a GPU); on a GPU
they are torch tensors and CUDA events time the launches.
"""

from __future__ import annotations

import enum
import time
from typing import Any, Callable, List, Optional, Sequence

__all__ = ["Profiler", "TensorSupplyType", "do_bench"]


class TensorSupplyType(enum.IntEnum):
    """How the profiler fills inputs (TileLang's names)."""
    Integer = 1
    Uniform = 2
    Normal = 3
    Randn = 4
    Zero = 5
    One = 6
    Auto = 7


def _on_host(kernel: Any) -> bool:
    from tessel.autotune import _on_emulator

    return kernel.target == "cpu" or _on_emulator(kernel)


def _supply(kernel: Any, supply: TensorSupplyType, seed: int = 0) -> List[Any]:
    """One input per non-output parameter of the kernel."""
    from tessel import _runtime

    host = _on_host(kernel)
    args: List[Any] = []
    for i, param in enumerate(kernel.signature.params):
        if i in kernel.out_idx or param.is_workspace:
            continue
        if not param.is_buffer:
            args.append(1 if param.dtype.startswith(("int", "bool")) else 1.0)
            continue
        if any(d < 0 for d in param.shape):
            raise ValueError("%s: parameter %r has a dynamic dimension; pass input_tensors="
                             % (kernel.name, param.name))
        is_float = param.dtype.startswith(("float", "bfloat"))
        kind = supply
        if kind == TensorSupplyType.Auto:
            kind = TensorSupplyType.Normal if is_float else TensorSupplyType.Integer
        if host:
            import numpy as np

            rng = np.random.default_rng(seed + i)
            shape = param.shape
            if kind == TensorSupplyType.Zero:
                data = np.zeros(shape)
            elif kind == TensorSupplyType.One:
                data = np.ones(shape)
            elif kind == TensorSupplyType.Integer:
                data = rng.integers(-2, 3, size=shape) if is_float or param.dtype.startswith(
                    "int") else rng.integers(0, 2, size=shape)
            elif kind == TensorSupplyType.Uniform:
                data = rng.uniform(-1.0, 1.0, size=shape)
            else:
                data = rng.standard_normal(shape)
            args.append(np.asarray(data, dtype=np.float32 if is_float else np.int64)
                        .astype(_runtime.numpy_dtype(param.dtype)))
            continue
        import torch

        dtype = getattr(torch, {"float8_e4m3": "float8_e4m3fn"}.get(param.dtype, param.dtype))
        if kind == TensorSupplyType.Zero:
            t = torch.zeros(param.shape, device="cuda")
        elif kind == TensorSupplyType.One:
            t = torch.ones(param.shape, device="cuda")
        elif kind == TensorSupplyType.Integer:
            t = torch.randint(-2, 3, param.shape, device="cuda")
        elif kind == TensorSupplyType.Uniform:
            t = torch.empty(param.shape, device="cuda").uniform_(-1.0, 1.0)
        else:
            t = torch.randn(param.shape, device="cuda")
        args.append(t.to(dtype))
    return args


def _as_float64(value: Any) -> Any:
    import numpy as np

    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().float().cpu().numpy()
    return np.asarray(value).astype(np.float64)


def _sync(kernel: Any) -> None:
    if not _on_host(kernel):
        import torch

        torch.cuda.synchronize()


class Profiler:
    """What ``kernel.get_profiler()`` returns."""

    def __init__(self, kernel: Any, tensor_supply_type: TensorSupplyType = TensorSupplyType.Auto):
        self.kernel = kernel
        self.supply_type = TensorSupplyType(tensor_supply_type)

    def _inputs(self, input_tensors: Optional[Sequence[Any]]) -> List[Any]:
        if input_tensors is not None:
            return list(input_tensors)
        return _supply(self.kernel, self.supply_type)

    def _outputs(self, result: Any, inputs: Sequence[Any]) -> List[Any]:
        if self.kernel.out_idx:
            return list(result) if isinstance(result, tuple) else [result]
        # No out_idx: the kernel wrote into its arguments (all of them compared).
        return list(inputs)

    def run_once(self, func: Optional[Callable[..., Any]] = None) -> Any:
        inputs = self._inputs(None)
        return (func or self.kernel)(*inputs)

    def assert_allclose(self, reference_program: Callable[..., Any],
                        input_tensors: Optional[Sequence[Any]] = None, atol: float = 1e-2,
                        rtol: float = 1e-2, max_mismatched_ratio: float = 0.01) -> None:
        """Runs the kernel and ``reference_program`` on the same inputs and
        checks every output: at most ``max_mismatched_ratio`` of the
        elements may differ by more than ``atol + rtol * |reference|``."""
        import numpy as np

        inputs = self._inputs(input_tensors)
        got = self._outputs(self.kernel(*inputs), inputs)
        expected = reference_program(*inputs)
        if not isinstance(expected, (tuple, list)):
            expected = [expected]
        if len(expected) != len(got):
            raise AssertionError("%s: the kernel gives %d outputs, the reference %d"
                                 % (self.kernel.name, len(got), len(expected)))
        for i, (g, e) in enumerate(zip(got, expected)):
            g64, e64 = _as_float64(g), _as_float64(e)
            if g64.shape != e64.shape:
                raise AssertionError("%s: output %d has shape %s, the reference %s"
                                     % (self.kernel.name, i, g64.shape, e64.shape))
            bad = ~np.isclose(g64, e64, atol=atol, rtol=rtol, equal_nan=True)
            ratio = float(bad.mean()) if bad.size else 0.0
            if ratio > max_mismatched_ratio:
                worst = float(np.nanmax(np.abs(g64 - e64))) if bad.size else 0.0
                raise AssertionError(
                    "%s: output %d: %.2f%% of %d elements differ (allowed %.2f%%), largest "
                    "difference %g (atol=%g, rtol=%g)"
                    % (self.kernel.name, i, 100 * ratio, bad.size,
                       100 * max_mismatched_ratio, worst, atol, rtol))

    def do_bench(self, func: Optional[Callable[..., Any]] = None, warmup: float = 25,
                 rep: float = 100, n_warmup: int = 1, n_repeat: int = 1,
                 input_tensors: Optional[Sequence[Any]] = None, backend: str = "event",
                 quantiles: Optional[Sequence[float]] = None,
                 return_mode: str = "mean") -> Any:
        """Milliseconds per call of ``func`` (the kernel by default) on
        generated inputs; ``warmup``/``rep`` are time budgets in ms, as in
        TileLang."""
        inputs = self._inputs(input_tensors)
        fn = func or self.kernel
        return do_bench(lambda: fn(*inputs), warmup=warmup, rep=rep, n_warmup=n_warmup,
                        n_repeat=n_repeat, quantiles=quantiles, return_mode=return_mode,
                        _sync=lambda: _sync(self.kernel))


def do_bench(fn: Callable[[], Any], warmup: float = 25, rep: float = 100,
             n_warmup: int = 1, n_repeat: int = 1, quantiles: Optional[Sequence[float]] = None,
             return_mode: str = "mean", backend: str = "event",
             _sync: Optional[Callable[[], None]] = None, **_ignored: Any) -> Any:
    """Milliseconds per call of ``fn()``: warm up for about ``warmup`` ms,
    then time calls for about ``rep`` ms (at least ``n_repeat`` of them).
    Uses the host's clock, after synchronizing CUDA when torch is in use."""
    import statistics

    sync = _sync
    if sync is None:
        sync = lambda: None  # noqa: E731
        try:
            import torch

            if torch.cuda.is_available():
                sync = torch.cuda.synchronize
        except ImportError:
            pass
    start = time.perf_counter()
    fn()
    sync()
    estimate = max((time.perf_counter() - start) * 1e3, 1e-3)
    for _ in range(max(n_warmup, int(warmup / estimate))):
        fn()
    sync()
    times = []
    for _ in range(max(n_repeat, min(int(rep / estimate), 1000))):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    if quantiles is not None:
        ordered = sorted(times)
        picked = [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in quantiles]
        return picked[0] if len(picked) == 1 else picked
    if return_mode == "min":
        return min(times)
    if return_mode == "max":
        return max(times)
    if return_mode == "median":
        return statistics.median(times)
    if return_mode == "all":
        return times
    return statistics.fmean(times)
