//===- tessel-opt.cpp - mlir-opt with the tile dialect and Tessel's passes ===//

#include "lib/Compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  tessel::registerAllTesselPasses();
  mlir::DialectRegistry registry;
  tessel::registerAllTesselDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Tessel optimizer: the tile dialect and its passes\n",
      registry));
}
