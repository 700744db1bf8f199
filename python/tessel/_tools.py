"""The console scripts a wheel installs (tesselc, tessel-opt, tessel-emu):
each runs the program of that name from the package's bin/ directory."""

import os
import sys

from tessel import _paths


def _run(name: str) -> None:
    path = _paths.tool(name)
    if not os.access(path, os.X_OK):
        sys.stderr.write(f"{name}: not found at {path}; reinstall Tessel\n")
        sys.exit(127)
    os.execv(path, [name] + sys.argv[1:])


def tesselc() -> None:
    _run("tesselc")


def tessel_opt() -> None:
    _run("tessel-opt")


def tessel_emu() -> None:
    _run("tessel-emu")
