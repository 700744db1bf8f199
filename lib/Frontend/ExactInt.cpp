//===- ExactInt.cpp - Python's integers at compile time, exactly ----------===//
//
// Compile-time integers are Python's: `(2**32) * (2**32) + 64` is 2**64 + 64,
// not 64, and `1 << 64` is not 1. A value that fits in 64 bits is an Int; a
// larger one is a BigInt (its decimal text), which arithmetic, comparisons
// and printing accept and which every conversion to a shape, an index or an
// IR constant refuses at the user's line, saying it does not fit.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"
#include "llvm/ADT/APSInt.h"
#include "llvm/ADT/SmallString.h"

#include <cmath>
#include <cstdlib>

using llvm::APInt;

namespace tessel::frontend {

namespace {

/// The exact value of an Int, Bool or BigInt at `width` bits (two's
/// complement, sign-extended).
APInt toAPInt(const Value &v, unsigned width) {
  if (v.kind == Value::Kind::BigInt)
    return v.big->sextOrTrunc(width);
  int64_t i = v.kind == Value::Kind::Int ? v.i : int64_t(v.b);
  return APInt(width, uint64_t(i), /*isSigned=*/true);
}

/// Bits the exact value needs (sign included).
unsigned bitsOf(const Value &v) {
  return v.kind == Value::Kind::BigInt ? v.big->getSignificantBits() : 64;
}

/// Python's floor division and modulo on signed values of equal width.
void floorDivMod(const APInt &a, const APInt &b, APInt &q, APInt &r) {
  APInt::sdivrem(a, b, q, r);
  if (!r.isZero() && (r.isNegative() != b.isNegative())) {
    q -= 1;
    r += b;
  }
}

} // namespace

Value exactInteger(const APInt &x) {
  if (x.getSignificantBits() <= 64)
    return Value::integer(x.getSExtValue());
  Value r;
  r.kind = Value::Kind::BigInt;
  // Kept at the bits it needs: arithmetic widens as it goes.
  r.big = std::make_shared<const APInt>(x.trunc(x.getSignificantBits()));
  return r;
}

std::string bigIntText(const Value &v) {
  if (v.kind != Value::Kind::BigInt)
    return std::to_string(v.kind == Value::Kind::Int ? v.i : int64_t(v.b));
  llvm::SmallString<64> text;
  v.big->toStringSigned(text, 10);
  return text.str().str();
}

Value exactIntegerFromText(llvm::StringRef decimal) {
  unsigned bits = llvm::APInt::getSufficientBitsNeeded(decimal, 10) + 2;
  return exactInteger(APInt(bits, decimal, 10));
}

/// The common case, two int64 operands whose result fits: no APInt.
std::optional<Value> smallIntegerOp(llvm::StringRef op, int64_t x, int64_t y) {
  int64_t r;
  if (op == "+")
    return __builtin_add_overflow(x, y, &r) ? std::nullopt : std::optional(Value::integer(r));
  if (op == "-")
    return __builtin_sub_overflow(x, y, &r) ? std::nullopt : std::optional(Value::integer(r));
  if (op == "*")
    return __builtin_mul_overflow(x, y, &r) ? std::nullopt : std::optional(Value::integer(r));
  if (op == "&") return Value::integer(x & y);
  if (op == "|") return Value::integer(x | y);
  if (op == "^") return Value::integer(x ^ y);
  if ((op == "//" || op == "%") && y != 0 && !(x == INT64_MIN && y == -1)) {
    int64_t q = x / y, m = x % y;
    if (m != 0 && ((m < 0) != (y < 0))) {
      q -= 1;
      m += y;
    }
    return Value::integer(op == "//" ? q : m);
  }
  if (op == ">>" && y >= 0)
    return Value::integer(y >= 63 ? (x < 0 ? -1 : 0) : x >> y);
  if (op == "<<" && y >= 0 && y < 63 && x >= -(int64_t(1) << (62 - y)) &&
      x < (int64_t(1) << (62 - y)))
    return Value::integer(int64_t(uint64_t(x) << y));
  return std::nullopt; // the exact path decides
}

std::optional<Value> exactIntegerOp(llvm::StringRef op, const Value &a, const Value &b,
                                    std::string &error) {
  if (a.kind != Value::Kind::BigInt && b.kind != Value::Kind::BigInt && op != "**")
    if (std::optional<Value> r =
            smallIntegerOp(op, a.kind == Value::Kind::Int ? a.i : int64_t(a.b),
                           b.kind == Value::Kind::Int ? b.i : int64_t(b.b)))
      return r;
  // Wide enough that no operation below wraps: a product needs the sum of
  // the widths, a quotient one more bit (INT64_MIN // -1).
  unsigned width = std::max(bitsOf(a), bitsOf(b)) + 1;
  if (op == "*")
    width = bitsOf(a) + bitsOf(b);
  APInt x = toAPInt(a, width), y = toAPInt(b, width);
  auto fits = [&](const APInt &v) -> std::optional<Value> {
    if (v.getSignificantBits() > kMaxIntBits) {
      error = "this integer would need more than " + std::to_string(kMaxIntBits) + " bits";
      return std::nullopt;
    }
    return exactInteger(v);
  };
  if (op == "+") return fits(x + y);
  if (op == "-") return fits(x - y);
  if (op == "*") return fits(x * y);
  if (op == "&") return fits(x & y);
  if (op == "|") return fits(x | y);
  if (op == "^") return fits(x ^ y);
  if (op == "//" || op == "%") {
    if (y.isZero()) {
      error = "division by zero";
      return std::nullopt;
    }
    APInt q, r;
    floorDivMod(x, y, q, r);
    return fits(op == "//" ? q : r);
  }
  if (op == "<<" || op == ">>") {
    if (y.isNegative()) {
      error = "negative shift count";
      return std::nullopt;
    }
    if (op == ">>") {
      uint64_t shift = y.getActiveBits() > 32 ? width : y.getZExtValue();
      return fits(x.ashr(unsigned(std::min<uint64_t>(shift, width))));
    }
    if (y.getActiveBits() > 32 || x.getSignificantBits() + y.getZExtValue() > kMaxIntBits) {
      if (x.isZero())
        return Value::integer(0);
      error = "this integer would need more than " + std::to_string(kMaxIntBits) + " bits";
      return std::nullopt;
    }
    unsigned shift = unsigned(y.getZExtValue());
    return fits(x.sext(width + shift).shl(shift));
  }
  if (op == "**") {
    if (y.isNegative())
      return std::nullopt; // a float power: the caller computes it
    // Square and multiply at a width that grows as needed, stopping at the
    // size limit (0, 1 and -1 stay small for any exponent).
    if (x.isZero())
      return Value::integer(y.isZero() ? 1 : 0);
    if (x.isOne())
      return Value::integer(1);
    if (x.isAllOnes())
      return Value::integer(y[0] ? -1 : 1);
    if (y.getActiveBits() > 16) {
      error = "this integer would need more than " + std::to_string(kMaxIntBits) + " bits";
      return std::nullopt;
    }
    uint64_t e = y.getZExtValue();
    // |x|^e needs at least (bits(|x|) - 1) * e + 1 bits and at most
    // bits(|x|) * e: refuse on the lower bound, work at the upper.
    uint64_t magnitude = x.abs().getActiveBits();
    if ((magnitude - 1) * e + 1 > kMaxIntBits) {
      error = "this integer would need more than " + std::to_string(kMaxIntBits) + " bits";
      return std::nullopt;
    }
    unsigned w = unsigned(magnitude * e + 2);
    APInt result(w, 1), base = x.sextOrTrunc(w);
    for (; e; e >>= 1) {
      if (e & 1)
        result *= base;
      if (e > 1)
        base *= base;
    }
    return fits(result);
  }
  error = "operator '" + op.str() + "' is not supported on integers";
  return std::nullopt;
}

int compareExactIntegers(const Value &a, const Value &b) {
  unsigned width = std::max(bitsOf(a), bitsOf(b)) + 1;
  APInt x = toAPInt(a, width), y = toAPInt(b, width);
  return x.slt(y) ? -1 : x == y ? 0 : 1;
}

double exactIntegerToDouble(const Value &v) {
  // From the decimal text, correctly rounded (APInt::roundToDouble of
  // LLVM 22 is off for values past one word: 2**64 gave 3 * 2**64).
  if (v.kind == Value::Kind::BigInt)
    return std::strtod(bigIntText(v).c_str(), nullptr);
  return v.kind == Value::Kind::Int ? double(v.i) : double(v.b);
}

std::optional<Value> exactIntegerFromDouble(double d) {
  if (!std::isfinite(d))
    return std::nullopt;
  if (d > -9.2e18 && d < 9.2e18)
    return Value::integer(int64_t(d));
  llvm::APSInt result(1100, /*isUnsigned=*/false); // a double is below 2^1024
  bool exact = false;
  llvm::APFloat(d).convertToInteger(result, llvm::APFloat::rmTowardZero, &exact);
  return exactInteger(result);
}

std::optional<int> compareExactIntegerWithDouble(const Value &a, double d) {
  if (std::isnan(d))
    return std::nullopt;
  if (std::isinf(d))
    return d > 0 ? -1 : 1;
  double whole = std::floor(d);
  if (int c = compareExactIntegers(a, *exactIntegerFromDouble(whole)))
    return c;
  return d > whole ? -1 : 0; // a == floor(d) < d when d has a fraction
}

std::optional<double> exactIntegerTrueDivide(const Value &a, const Value &b,
                                             std::string &error) {
  unsigned width = std::max(bitsOf(a), bitsOf(b)) + 1;
  APInt x = toAPInt(a, width), y = toAPInt(b, width);
  if (y.isZero()) {
    error = "division by zero";
    return std::nullopt;
  }
  // Whole part exactly, then the fraction from the remainder and divisor
  // shifted down to fit a double's range together.
  APInt q, r;
  APInt::sdivrem(x, y, q, r);
  double whole = exactIntegerToDouble(exactInteger(q));
  if (std::isinf(whole)) {
    error = "integer division result too large for a float";
    return std::nullopt;
  }
  unsigned shift = std::max<int>(0, int(y.abs().getActiveBits()) - 120);
  double fraction = exactIntegerToDouble(exactInteger(r.ashr(shift))) /
                    exactIntegerToDouble(exactInteger(y.ashr(shift)));
  return whole + fraction;
}

bool isExactInteger(const Value &v) {
  return v.kind == Value::Kind::Int || v.kind == Value::Kind::Bool ||
         v.kind == Value::Kind::BigInt;
}

std::optional<APInt> integerForWidth(const Value &v, unsigned width) {
  // A width-bit integer holds -2^(w-1) .. 2^w - 1: signed values and, for
  // the bit patterns of unsigned types (0xFFFFFFFF as a uint32), unsigned.
  unsigned bits = bitsOf(v) + 1;
  APInt x = toAPInt(v, std::max(bits, width + 1));
  if (x.isNegative() ? x.getSignificantBits() > width : x.getActiveBits() > width)
    return std::nullopt;
  return x.trunc(width);
}

} // namespace tessel::frontend
