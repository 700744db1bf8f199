"""The fidelity case table: for every kernel, its launch, its inputs (seeded
numpy) and a reference that follows the PTX ISA.  The cases live in one module
per part of the ISA (cases_wgmma.py, cases_tma.py, ...); this module gathers
them.

Exact (bitwise) where the ISA defines the result: integer MMA, data movement,
conversions, warp collectives.  Close where it leaves freedom: floating-point
MMA accumulation order/rounding (9.7.15.5.2 "unspecified") and the .approx
functions (their stated error bounds, 9.7.3).  Where an MMA's inputs are chosen
so that every partial sum is exactly representable in the accumulation
precision the ISA guarantees, the result is exact in any order and is
compared exactly.
"""

# Imported for their cases; the order fixes each case's position in CASES.
import cases_wgmma  # noqa: F401
import cases_mma  # noqa: F401
import cases_tma  # noqa: F401
import cases_cvt  # noqa: F401
import cases_warp  # noqa: F401
import cases_sync  # noqa: F401
import cases_math  # noqa: F401
from harness import CASES  # noqa: F401
