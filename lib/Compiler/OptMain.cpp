//===- OptMain.cpp - tessel-opt's main, inside libtessel -------------------===//

#include "lib/Compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int tessel::optMain(int argc, char **argv) {
  registerAllTesselPasses();
  mlir::DialectRegistry registry;
  registerAllTesselDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Tessel optimizer: the tile dialect and its passes\n", registry));
}
