//===- LaunchLimits.cpp - a kernel's grid within what a GPU can launch ----===//
//
// CUDA launches at most 2^31 - 1 blocks along x and 65,535 along y and z.
// A static extent past those (or below 1) is an error at the T.Kernel line:
// it used to wrap (2^32 + 1 blocks became 1) or turn negative in the
// manifest and the header. Dynamic extents are checked when the kernel is
// launched (lib/Runtime/Aot.cpp, the CPU backend's launcher). A tensor's
// static size must fit in 63 bits of bytes.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

namespace tessel::frontend {

bool Emitter::checkGridExtents(llvm::ArrayRef<Value> extents, SourceLoc l) {
  static const char *const kAxis[] = {"x", "y", "z"};
  for (size_t axis = 0; axis < extents.size() && axis < 3; ++axis) {
    const Value &v = extents[axis];
    int64_t limit = axis == 0 ? kMaxGridX : kMaxGridYZ;
    std::string which = std::string("grid extent ") + kAxis[axis];
    if (v.kind == Value::Kind::BigInt) {
      error(l, which + " is " + bigIntText(v) + ", which does not fit in 64 bits (the limit is " +
                   std::to_string(limit) + ")");
      return false;
    }
    if (v.kind != Value::Kind::Int && v.kind != Value::Kind::Bool)
      continue; // dynamic: checked at launch
    int64_t n = v.kind == Value::Kind::Int ? v.i : v.b;
    if (n < 1) {
      error(l, which + " is " + std::to_string(n) + "; a kernel needs at least one block "
                   "along each axis");
      return false;
    }
    if (n > limit) {
      error(l, which + " is " + std::to_string(n) + ", more than CUDA launches (" +
                   std::to_string(limit) + (axis == 0 ? ", 2^31 - 1)" : ")"));
      return false;
    }
  }
  return true;
}

bool Emitter::checkTensorBytes(llvm::ArrayRef<int64_t> shape, mlir::Type element,
                               SourceLoc l) {
  int64_t bytes = std::max<int64_t>(1, (element.getIntOrFloatBitWidth() + 7) / 8);
  for (int64_t d : shape) {
    if (d == mlir::ShapedType::kDynamic)
      continue; // a T.dynamic dimension: its launch gives it
    if (__builtin_mul_overflow(bytes, d, &bytes)) {
      std::string dims;
      for (int64_t e : shape)
        dims += (dims.empty() ? "" : " x ") +
                (e == mlir::ShapedType::kDynamic ? std::string("?") : std::to_string(e));
      error(l, "a tensor of " + dims + " elements needs more than 2^63 - 1 bytes");
      return false;
    }
  }
  return true;
}

} // namespace tessel::frontend
