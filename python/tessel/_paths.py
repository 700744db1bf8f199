"""Where this Tessel's tools, libraries, headers and CMake package are.

An installed wheel keeps them inside the package (``tessel/bin``,
``tessel/lib``, ``tessel/include``, ``tessel/lib/cmake/Tessel``). A
checkout run from ``python/`` (scripts/setup.sh) finds them in the build
directory: ``$TESSEL_BUILD_DIR``, else ``build/`` beside ``python/``.
"""

import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def installed() -> bool:
    """True for an installed package (a wheel), False for a checkout."""
    return os.path.isdir(os.path.join(_HERE, "bin")) and os.path.isdir(os.path.join(_HERE, "lib"))


def root() -> str:
    """The directory holding bin/ and lib/: the package itself when
    installed, else the build directory."""
    if installed():
        return _HERE
    build = os.environ.get("TESSEL_BUILD_DIR")
    if build:
        return os.path.abspath(build)
    return os.path.normpath(os.path.join(_HERE, "..", "..", "build"))


def bin_dir() -> str:
    return os.path.join(root(), "bin")


def lib_dir() -> str:
    return os.path.join(root(), "lib")


def include_dir() -> str:
    """The C and C++ headers (tessel/tessel.h, tessel/Compiler.h, ...)."""
    if installed():
        return os.path.join(_HERE, "include")
    return os.path.normpath(os.path.join(_HERE, "..", "..", "include"))


def cmake_dir() -> str:
    """The directory for ``Tessel_DIR`` (find_package(Tessel)). Only an
    installed package has one; a build tree is installed first
    (``cmake --install build --prefix P`` gives P/lib/cmake/Tessel)."""
    if not installed():
        raise FileNotFoundError(
            "this Tessel runs from a checkout, which has no CMake package; install it "
            "(pip install ., or cmake --install build --prefix P and use P/lib/cmake/Tessel)")
    return os.path.join(_HERE, "lib", "cmake", "Tessel")


def tool(name: str) -> str:
    """The path of one of Tessel's programs (tesselc, tessel-opt, tessel-emu)."""
    return os.path.join(bin_dir(), name)
