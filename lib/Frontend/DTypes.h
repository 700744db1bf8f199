//===- DTypes.h - the kernel language's dtypes and their MLIR types -*- C++ -*-===//

#ifndef TESSEL_LIB_FRONTEND_DTYPES_H
#define TESSEL_LIB_FRONTEND_DTYPES_H

#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace tessel::frontend {

/// The canonical dtype name for a spelling users write ("float8_e4m3fn" and
/// "float8_e4m3" are one dtype), or std::nullopt for an unknown one.
std::optional<llvm::StringRef> canonicalDTypeName(llvm::StringRef name);

/// The MLIR element type of a canonical dtype name.
mlir::Type dtypeToType(llvm::StringRef canonicalName, mlir::MLIRContext *ctx);

/// The dtype spellings, for "expected one of" messages.
std::string knownDTypeNames();

/// Whether a canonical dtype name is unsigned ("uint8", ...).
inline bool isUnsignedDType(llvm::StringRef canonicalName) {
  return canonicalName.starts_with("uint");
}

} // namespace tessel::frontend

#endif // TESSEL_LIB_FRONTEND_DTYPES_H
