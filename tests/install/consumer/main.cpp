// Links the installed libtessel.so and runs the verifier on a small kernel.
#include <tessel/Compiler.h>

#include <cstdio>

int main() {
  const char *ir = "func.func @f() {\n"
                   "  %c1 = arith.constant 1 : index\n"
                   "  tile.kernel grid(%c1) threads(32) {\n"
                   "  ^bb0(%bx: index):\n"
                   "    tile.barrier\n"
                   "  }\n"
                   "  return\n"
                   "}\n";
  tessel::CompileResult result = tessel::runTileIR(ir, "canonicalize");
  std::printf("tessel %s: %s\n", tessel::version(),
              result.ok ? "verified" : result.diagnostics.c_str());
  return result.ok ? 0 : 1;
}
