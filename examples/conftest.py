"""pytest setup for the reference kernels under examples/: this checkout's
package, each example's directory importable, and the gpu marker."""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
# TESSEL_TEST_INSTALLED=1 (scripts/build-wheel.sh) tests the installed
# package instead of this checkout's python/.
if os.environ.get("TESSEL_TEST_INSTALLED"):
    import tessel as _installed

    if os.path.abspath(_installed.__file__).startswith(os.path.join(os.path.dirname(_HERE), "python", "")):
        raise RuntimeError(f"TESSEL_TEST_INSTALLED is set, but tessel comes from the checkout "
                           f"({_installed.__file__})")
else:
    sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "python"))


# Kernels whose target is "auto" run on the CPU backend here, as the tests
# expect (numpy in and out), also on a machine with a GPU; the GPU tests name
# target="cuda" themselves.
os.environ.setdefault("TESSEL_TARGET", "cpu")


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU (skipped without one)")
