//===- FrontendParserFuzzer.cpp - libFuzzer target for the kernel parser --===//

#include "lib/Frontend/Parser.h"

#include <cstddef>
#include <cstdint>

using namespace tessel::frontend;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  SourceFile file{"fuzz.py", std::string(reinterpret_cast<const char *>(data), size), 1, 0};
  DiagnosticEngine diags(file);
  std::unique_ptr<Module> module = parseModule(file, diags);
  if (module)
    (void)dumpAST(*module);
  else
    (void)diags.render();
  return 0;
}
