"""``tessel.testing`` (TileLang's ``tilelang.testing``): what kernel tests use."""

from __future__ import annotations

import random
from typing import Any

__all__ = ["set_random_seed", "torch_assert_close", "assert_allclose", "main"]


def set_random_seed(seed: int = 42) -> None:
    """Seeds Python's, numpy's and (when installed) torch's generators."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    except ImportError:
        pass


def _numpy(value: Any) -> Any:
    import numpy as np

    if hasattr(value, "detach"):
        value = value.detach().float().cpu().numpy()
    return np.asarray(value).astype(np.float64)


def torch_assert_close(actual: Any, expected: Any, rtol: float = 1e-2, atol: float = 1e-2,
                       max_mismatched_ratio: float = 0.001, base_name: str = "LHS",
                       ref_name: str = "RHS", **_ignored: Any) -> None:
    """At most ``max_mismatched_ratio`` of the elements may differ by more
    than ``atol + rtol * |expected|`` (numpy arrays or torch tensors)."""
    import numpy as np

    a, e = _numpy(actual), _numpy(expected)
    if a.shape != e.shape:
        raise AssertionError("%s has shape %s, %s %s" % (base_name, a.shape, ref_name, e.shape))
    bad = ~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    ratio = float(bad.mean()) if bad.size else 0.0
    if ratio > max_mismatched_ratio:
        raise AssertionError("%.3f%% of %d elements of %s and %s differ (allowed %.3f%%)"
                             % (100 * ratio, bad.size, base_name, ref_name,
                                100 * max_mismatched_ratio))


assert_allclose = torch_assert_close


def main() -> None:
    """Runs the calling file's tests with pytest."""
    import inspect
    import sys

    import pytest

    caller = inspect.stack()[1].filename
    sys.exit(pytest.main([caller] + sys.argv[1:]))
