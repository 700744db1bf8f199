"""pytest setup for the TileLang compatibility tests: kernels written as
TileLang programs are (import swap aside), each run on the CPU backend and,
on the cuda target, on Tessel's Hopper emulator. ctest sets
TESSEL_CUDA_DRIVER=emu; run by hand without it, the cuda cases skip (they
run on a GPU when the driver is libcuda)."""

import os
import sys

import pytest

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# TESSEL_TEST_INSTALLED=1 (scripts/build-wheel.sh) tests the installed
# package instead of this checkout's python/.
if os.environ.get("TESSEL_TEST_INSTALLED"):
    import tessel as _installed

    if os.path.abspath(_installed.__file__).startswith(os.path.join(_REPO, "python", "")):
        raise RuntimeError(f"TESSEL_TEST_INSTALLED is set, but tessel comes from the checkout "
                           f"({_installed.__file__})")
else:
    sys.path.insert(0, os.path.join(_REPO, "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

os.environ.setdefault("TESSEL_BUILD_DIR", os.path.join(_REPO, "build"))


def _cuda_available():
    """The cuda target can run here: the emulator, or a Hopper GPU."""
    if not os.environ.get("TESSEL_CUDA_DRIVER"):
        return False
    try:
        from tessel.jit import _usable_gpu_arch

        return bool(_usable_gpu_arch())
    except Exception:  # noqa: BLE001 - no driver at all: the cuda cases skip
        return False


@pytest.fixture(params=["cpu", "cuda"])
def target(request):
    """Each kernel runs on the CPU backend and on the cuda target (the
    emulator here)."""
    if request.param == "cuda" and not _cuda_available():
        pytest.skip("the cuda target needs TESSEL_CUDA_DRIVER (emu: Tessel's emulator)")
    return request.param


def on(target, jitted):
    """The same @tessel.jit function compiled for `target`."""
    import tessel

    again = tessel.jit(out_idx=jitted.out_idx, target=target)(jitted.fn)
    again.tma, again.warp_specialize = jitted.tma, jitted.warp_specialize
    again.fast_math = getattr(jitted, "fast_math", False)
    return again
