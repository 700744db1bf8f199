//===- tessel-opt.cpp - mlir-opt with the tile dialect and Tessel's passes ===//
//
// The work is in libtessel (lib/Compiler/OptMain.cpp), which holds the one
// copy of MLIR a Tessel installation carries.
//
//===----------------------------------------------------------------------===//

#include "lib/Compiler/Registration.h"

int main(int argc, char **argv) { return tessel::optMain(argc, argv); }
