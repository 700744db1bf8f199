//===- Registration.h - the one registry of Tessel's dialects and passes -*- C++ -*-===//

#ifndef TESSEL_LIB_COMPILER_REGISTRATION_H
#define TESSEL_LIB_COMPILER_REGISTRATION_H

namespace mlir {
class DialectRegistry;
class PassManager;
} // namespace mlir

namespace tessel {

/// Adds the tile dialect and every upstream dialect Tessel's pipelines use.
void registerAllTesselDialects(mlir::DialectRegistry &registry);

/// Registers every Tessel pass (and the upstream ones its pipelines run) with
/// the global pass registry, for tessel-opt, tesselc and Python alike.
void registerAllTesselPasses();

/// tessel-opt's main: mlir-opt with the dialects and passes above. It lives in
/// libtessel so that the tool, a few lines of its own, carries no second copy
/// of MLIR when libtessel links MLIR statically.
int optMain(int argc, char **argv);

/// Applies the process's DebugOptions (IR dumps, timing) to a pass manager.
void applyDebugOptions(mlir::PassManager &pm);

} // namespace tessel

#endif // TESSEL_LIB_COMPILER_REGISTRATION_H
