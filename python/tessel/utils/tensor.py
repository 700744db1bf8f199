"""``tessel.utils.tensor``: making a kernel's input tensors (TileLang's
``get_tensor_supply``)."""

from __future__ import annotations

from typing import Any, Callable

from tessel.profiler import TensorSupplyType

__all__ = ["TensorSupplyType", "get_tensor_supply"]


def get_tensor_supply(supply_type: TensorSupplyType = TensorSupplyType.Auto,
                      host: bool = True) -> Callable[[Any], Any]:
    """A function from a kernel parameter (``kernel.params[i]``) to a tensor
    of its shape and dtype filled as ``supply_type`` says: numpy arrays by
    default (the CPU target and the emulator), torch tensors on the GPU with
    ``host=False``."""
    supply = TensorSupplyType(supply_type)

    def make(param: Any) -> Any:
        import numpy as np

        from tessel import _runtime

        shape = tuple(int(d) for d in param.shape)
        if any(d < 0 for d in shape):
            raise ValueError("get_tensor_supply: parameter %r has a dynamic dimension"
                             % param.name)
        is_float = param.dtype.startswith(("float", "bfloat"))
        kind = supply
        if kind == TensorSupplyType.Auto:
            kind = TensorSupplyType.Normal if is_float else TensorSupplyType.Integer
        rng = np.random.default_rng()
        if kind == TensorSupplyType.Zero:
            data = np.zeros(shape)
        elif kind == TensorSupplyType.One:
            data = np.ones(shape)
        elif kind == TensorSupplyType.Integer:
            data = rng.integers(-2, 3, size=shape)
        elif kind == TensorSupplyType.Uniform:
            data = rng.uniform(-1.0, 1.0, size=shape)
        else:
            data = rng.standard_normal(shape)
        array = np.asarray(data, np.float32).astype(_runtime.numpy_dtype(param.dtype))
        if host:
            return array
        import torch

        return torch.from_numpy(array.astype(np.float32)).to("cuda").to(
            getattr(torch, {"float8_e4m3": "float8_e4m3fn"}.get(param.dtype, param.dtype)))

    return make
