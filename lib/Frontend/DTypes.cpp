//===- DTypes.cpp - the kernel language's dtypes and their MLIR types -----===//

#include "lib/Frontend/DTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace {
struct DTypeSpelling {
  const char *spelling;
  const char *canonical;
};
constexpr DTypeSpelling kSpellings[] = {
    {"float16", "float16"},         {"half", "float16"},
    {"bfloat16", "bfloat16"},       {"float32", "float32"},
    {"float", "float32"},           {"float64", "float64"},
    {"float8_e4m3", "float8_e4m3"}, {"float8_e4m3fn", "float8_e4m3"},
    {"float8_e5m2", "float8_e5m2"}, {"int8", "int8"},
    {"int16", "int16"},             {"int32", "int32"},
    {"int64", "int64"},             {"bool", "bool"},
    {"uint8", "uint8"},             {"uint16", "uint16"},
    {"uint32", "uint32"},           {"uint64", "uint64"},
};
} // namespace

std::optional<llvm::StringRef>
tessel::frontend::canonicalDTypeName(llvm::StringRef name) {
  for (const DTypeSpelling &s : kSpellings)
    if (name == s.spelling)
      return llvm::StringRef(s.canonical);
  return std::nullopt;
}

Type tessel::frontend::dtypeToType(llvm::StringRef name, MLIRContext *ctx) {
  Builder b(ctx);
  return llvm::StringSwitch<Type>(name)
      .Case("float16", b.getF16Type())
      .Case("bfloat16", b.getBF16Type())
      .Case("float32", b.getF32Type())
      .Case("float64", b.getF64Type())
      .Case("float8_e4m3", b.getType<Float8E4M3FNType>())
      .Case("float8_e5m2", b.getType<Float8E5M2Type>())
      .Case("int8", b.getI8Type())
      .Case("int16", b.getI16Type())
      .Case("int32", b.getI32Type())
      .Case("int64", b.getI64Type())
      // Unsigned dtypes are signless integers in the IR; the frontend picks
      // the unsigned operations (and tessel.unsigned marks the arguments).
      .Case("uint8", b.getI8Type())
      .Case("uint16", b.getI16Type())
      .Case("uint32", b.getI32Type())
      .Case("uint64", b.getI64Type())
      .Case("bool", b.getI1Type())
      .Default(Type());
}

std::string tessel::frontend::knownDTypeNames() {
  std::string out;
  for (const DTypeSpelling &s : kSpellings) {
    if (!out.empty())
      out += ", ";
    out += s.spelling;
  }
  return out;
}
