"""Compares two TESSEL_FIDELITY_SAVE directories (e.g. a GPU run and an
emulator run): python3 compare.py GPU_DIR EMU_DIR.

Bitwise per output; floating-point outputs also report the largest absolute
difference, since the ISA leaves MMA accumulation order and .approx results
open (the test's own tolerances decide pass/fail; this shows where the two
implementations differ at all).
"""

import os
import sys

import numpy as np


def main(a_dir, b_dir):
    names = sorted(set(os.listdir(a_dir)) & set(os.listdir(b_dir)))
    only = sorted(set(os.listdir(a_dir)) ^ set(os.listdir(b_dir)))
    differing = 0
    for name in names:
        a, b = np.load(os.path.join(a_dir, name)), np.load(os.path.join(b_dir, name))
        if a.shape != b.shape or a.dtype != b.dtype:
            print(f"{name}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}")
            differing += 1
            continue
        bits = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
        diff = a.view(bits) != b.view(bits)
        if diff.any():
            differing += 1
            line = f"{name}: {int(diff.sum())} of {diff.size} elements differ"
            if a.dtype.kind == "f":
                with np.errstate(invalid="ignore"):
                    delta = np.abs(a.astype(np.float64) - b.astype(np.float64))
                line += f", max |a-b| = {np.nanmax(np.where(diff, delta, 0)):.3g}"
            print(line)
    for name in only:
        print(f"{name}: only in one directory")
    print(f"{len(names)} outputs compared, {differing} differ, {len(only)} unpaired")
    return 1 if differing or only else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
