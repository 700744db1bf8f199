"""pytest setup for the emulator's tests: Tessel's cuda target runs on the
Hopper emulator (TESSEL_CUDA_DRIVER=emu) unless the environment names
another driver, e.g. a GPU's libcuda.so.1."""

import os
import sys

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
sys.path.insert(0, os.path.join(_REPO, "examples"))

os.environ.setdefault("TESSEL_CUDA_DRIVER", "emu")
os.environ.setdefault("TESSEL_BUILD_DIR", os.path.join(_REPO, "build"))
