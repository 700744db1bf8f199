"""``tessel.utils`` (TileLang's ``tilelang.utils``): host-side helpers."""

from tessel.utils.tensor import TensorSupplyType, get_tensor_supply

__all__ = ["TensorSupplyType", "get_tensor_supply"]
