//===- Fatbin.h - finding the PTX inside a module image -----------*- C++ -*-===//

#ifndef TESSEL_LIB_EMULATOR_FATBIN_H
#define TESSEL_LIB_EMULATOR_FATBIN_H

#include <cstdint>
#include <string>

namespace tessel::emu {

enum class ImageKind { PTX, Fatbin, Cubin, Invalid };

/// The PTX text of a module image (PTX, or a fatbin with an uncompressed
/// PTX entry). For a cubin or anything else, `why` says what is wrong.
ImageKind extractPTX(const void *image, std::string &ptx, std::string &why);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_FATBIN_H
