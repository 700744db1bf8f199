"""``python -m tessel``: where this Tessel keeps its files, for build systems.

    python -m tessel --cmake-dir     # for -DTessel_DIR=... (find_package(Tessel))
    python -m tessel --include-dir   # tessel/tessel.h, tessel/runtime.h, tessel/Compiler.h
    python -m tessel --lib-dir       # libtessel.so, libtessel_runtime.so, libtessel_emu.so
    python -m tessel --bin-dir       # tesselc, tessel-opt, tessel-emu
    python -m tessel --version
"""

import argparse
import sys

from tessel import _paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tessel",
        description="Print where this Tessel keeps its tools, libraries, headers and "
                    "CMake package.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--cmake-dir", action="store_true",
                       help="the directory to give find_package(Tessel) as Tessel_DIR")
    group.add_argument("--include-dir", action="store_true", help="the C/C++ headers")
    group.add_argument("--lib-dir", action="store_true", help="the shared libraries")
    group.add_argument("--bin-dir", action="store_true",
                       help="tesselc, tessel-opt and tessel-emu")
    group.add_argument("--version", action="store_true", help="Tessel's version")
    args = parser.parse_args(argv)
    try:
        if args.version:
            import tessel

            print(tessel.__version__)
        elif args.cmake_dir:
            print(_paths.cmake_dir())
        elif args.include_dir:
            print(_paths.include_dir())
        elif args.lib_dir:
            print(_paths.lib_dir())
        else:
            print(_paths.bin_dir())
    except FileNotFoundError as error:
        print(f"python -m tessel: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
