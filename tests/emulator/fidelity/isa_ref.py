"""Reference arithmetic written from the PTX ISA text: shared-memory swizzle,
TMA boxes, and exact (rational) IEEE rounding into the formats cvt and fma
produce."""

import math
from fractions import Fraction

import numpy as np


# ---------------------------------------------------------------------------
# Shared-memory swizzle and tensor boxes (5.5.3, 5.5.7)
# ---------------------------------------------------------------------------

def swizzle_offsets(nbytes, span):
    """phys[o] for every byte offset o of a buffer starting on a 1024-byte
    boundary: the 16-byte chunk bits [6:4] XOR the 128-byte line bits above
    them, modulo span/16 (5.5.7 tables; span 0 = no swizzle)."""
    o = np.arange(nbytes)
    if span == 0:
        return o
    return o ^ (((o >> 7) & (span // 16 - 1)) << 4)


def swizzle_image(image, span):
    """The shared-memory bytes of a dense box image under a swizzle mode."""
    image = np.ascontiguousarray(image).view(np.uint8).reshape(-1)
    out = np.empty_like(image)
    out[swizzle_offsets(image.size, span)] = image
    return out


def tensor_box(flat, esize, dims, strides, coords, box, elem_strides=None):
    """The box a tiled TMA load writes, as a dense array of elements (raw
    integers of esize bytes), outermost dimension first, plus the mask of
    elements inside the tensor.  Box element j reads coordinate
    c_d + j_d * elementStride_d; it is out of bounds if any coordinate is
    negative or >= dims[d] (5.5.3.1-5.5.3.3)."""
    rank = len(dims)
    es = elem_strides or [1] * rank
    counts = [-(-box[d] // es[d]) for d in range(rank)]
    byte_strides = [esize] + list(strides)
    idx = np.indices(counts[::-1]).reshape(rank, -1)[::-1]  # idx[d] = j_d, innermost first
    coord = np.array([coords[d] + idx[d] * es[d] for d in range(rank)])
    inside = np.all((coord >= 0) & (coord < np.array(dims)[:, None]), axis=0)
    addr = np.zeros(idx.shape[1], np.int64)
    for d in range(rank):
        addr += np.where(inside, coord[d], 0) * byte_strides[d]
    elems = flat.view(np.uint8)
    dtype = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[esize]
    values = np.zeros(idx.shape[1], dtype)
    raw = np.stack([elems[addr + b] for b in range(esize)], axis=1).copy().view(dtype)[:, 0]
    values[inside] = raw[inside]
    return values.reshape(counts[::-1]), inside.reshape(counts[::-1])


# ---------------------------------------------------------------------------
# Floating-point rounding (cvt 9.7.9.21, fma 9.7.4.4), exact in rationals
# ---------------------------------------------------------------------------

class Format:
    """A binary floating-point format: exponent/mantissa widths, whether the
    all-ones exponent is Inf/NaN (IEEE-like) or, for e4m3, only S.1111.111 is
    NaN and there is no Inf (9.7.9.21 / 5.2.5 alternate formats)."""

    def __init__(self, name, ebits, mbits, ieee=True):
        self.name, self.ebits, self.mbits, self.ieee = name, ebits, mbits, ieee
        self.bias = (1 << (ebits - 1)) - 1
        self.emin = 1 - self.bias
        self.emax = ((1 << ebits) - 2 - self.bias) if ieee else ((1 << ebits) - 1 - self.bias)
        top = (1 << mbits) - 1 if ieee else (1 << mbits) - 2  # e4m3: 1.110 x 2^8 = 448
        self.max_bits = (((1 << ebits) - 2 if ieee else (1 << ebits) - 1) << mbits) | top
        self.max_value = Fraction((1 << mbits) | top, 1 << mbits) * Fraction(2) ** self.emax
        self.sign_bit = 1 << (ebits + mbits)
        self.inf_bits = ((1 << ebits) - 1) << mbits if ieee else None
        self.nan_bits = (((1 << ebits) - 1) << mbits) | ((1 << mbits) - 1)

    def decode(self, bits):
        """bits -> float (NaN, +-inf or an exact finite value)."""
        sign = -1.0 if bits & self.sign_bit else 1.0
        e = (bits >> self.mbits) & ((1 << self.ebits) - 1)
        m = bits & ((1 << self.mbits) - 1)
        if self.ieee and e == (1 << self.ebits) - 1:
            return sign * math.inf if m == 0 else math.nan
        if not self.ieee and e == (1 << self.ebits) - 1 and m == (1 << self.mbits) - 1:
            return math.nan
        if e == 0:
            return sign * math.ldexp(m, self.emin - self.mbits)
        return sign * math.ldexp(m | (1 << self.mbits), e - self.bias - self.mbits)


F32 = Format("f32", 8, 23)
F16 = Format("f16", 5, 10)
BF16 = Format("bf16", 8, 7)
E5M2 = Format("e5m2", 5, 2)
E4M3 = Format("e4m3", 4, 3, ieee=False)


def round_int(q, mode, negative):
    """Rounds the non-negative rational q to an integer: rn ties to even; rz,
    rm, rp toward zero, -inf, +inf (applied to the signed value)."""
    n, r = divmod(q.numerator, q.denominator)
    if r == 0:
        return n
    frac = Fraction(r, q.denominator)
    if mode == "rn":
        return n + (1 if frac > Fraction(1, 2) or (frac == Fraction(1, 2) and n % 2) else 0)
    if mode == "rz":
        return n
    up = (mode == "rp") != negative  # away from zero for rp on +, rm on -
    return n + 1 if up else n


def round_to(fmt, value, mode="rn", satfinite=False):
    """IEEE-754 rounding of a real value (Fraction/int/float, or NaN/inf
    float) into fmt, returning its bit pattern.  Overflow follows the rounding
    direction (rn -> Inf; rz -> MAX; rm/rp by sign); .satfinite turns NaN into
    NaN and any |value| > MAX_NORM, Inf included, into +-MAX_NORM (9.7.9.21)."""
    if isinstance(value, float) and math.isnan(value):
        return fmt.nan_bits
    negative = (value < 0) or (isinstance(value, float) and math.copysign(1, value) < 0)
    sign = fmt.sign_bit if negative else 0
    if isinstance(value, float) and math.isinf(value):
        if satfinite or not fmt.ieee:
            return sign | fmt.max_bits
        return sign | fmt.inf_bits
    mag = abs(Fraction(value))
    if mag == 0:
        return sign
    e = mag.numerator.bit_length() - mag.denominator.bit_length()
    if Fraction(2) ** e > mag:
        e -= 1
    e = max(e, fmt.emin)
    quantum = Fraction(2) ** (e - fmt.mbits)
    m = round_int(mag / quantum, mode, negative)
    if m == 1 << (fmt.mbits + 1):
        m, e = m >> 1, e + 1
    rounded = m * quantum
    if rounded > fmt.max_value:
        if satfinite or not fmt.ieee:
            return sign | fmt.max_bits
        to_inf = mode == "rn" or (mode == "rp" and not negative) or (mode == "rm" and negative)
        return sign | (fmt.inf_bits if to_inf else fmt.max_bits)
    if satfinite and mag > fmt.max_value:
        return sign | fmt.max_bits
    if m < 1 << fmt.mbits:  # subnormal (or zero)
        return sign | m
    return sign | ((e + fmt.bias) << fmt.mbits) | (m - (1 << fmt.mbits))


def round_array(fmt, values, mode="rn", satfinite=False):
    dtype = np.uint8 if fmt.ebits + fmt.mbits < 8 else np.uint16 if fmt.ebits + fmt.mbits < 16 else np.uint32
    return np.array([round_to(fmt, v, mode, satfinite) for v in _exact(values)], dtype)


def _exact(values):
    """Python values that are exact: floats stay floats (exact binary values
    and NaN/inf), numpy ints become Python ints."""
    out = []
    for v in np.asarray(values).reshape(-1):
        out.append(int(v) if np.issubdtype(np.asarray(v).dtype, np.integer) else float(v))
    return out
