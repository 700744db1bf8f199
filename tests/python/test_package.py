"""`python -m tessel` and the package's idea of where its files are: the
checkout's build tree here, the package itself once installed from the wheel
(scripts/build-wheel.sh runs these tests against the installed package)."""

import os
import subprocess
import sys

import tessel
from tessel import _paths

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(tessel.__file__)))


def tessel_main(*args):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, "-m", "tessel", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_directories_hold_what_they_name():
    out = tessel_main("--bin-dir")
    assert out.returncode == 0, out.stderr
    bin_dir = out.stdout.strip()
    for tool in ("tesselc", "tessel-opt"):
        assert os.access(os.path.join(bin_dir, tool), os.X_OK), tool
    lib_dir = tessel_main("--lib-dir").stdout.strip()
    for lib in ("libtessel.so", "libtessel_runtime.so"):
        assert os.path.exists(os.path.join(lib_dir, lib)), lib
    include_dir = tessel_main("--include-dir").stdout.strip()
    for header in ("tessel.h", "runtime.h", "Compiler.h"):
        assert os.path.exists(os.path.join(include_dir, "tessel", header)), header
    assert tessel_main("--version").stdout.strip() == tessel.__version__


def test_cmake_dir_only_for_an_installed_package():
    out = tessel_main("--cmake-dir")
    if _paths.installed():
        assert out.returncode == 0, out.stderr
        assert os.path.exists(os.path.join(out.stdout.strip(), "TesselConfig.cmake"))
        assert os.path.exists(os.path.join(out.stdout.strip(), "TesselTargets.cmake"))
    else:
        assert out.returncode == 1
        assert "checkout" in out.stderr and "cmake --install" in out.stderr


def test_no_question_is_a_usage_error():
    out = tessel_main()
    assert out.returncode == 2
    assert "one of the arguments" in out.stderr


def test_the_tools_run_from_where_the_package_says():
    out = subprocess.run([_paths.tool("tesselc"), "--version"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert tessel.__version__ in out.stdout
