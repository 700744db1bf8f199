//===- Fatbin.cpp - finding the PTX inside a module image ------------------===//
//
// cuModuleLoadData takes PTX text, a cubin or a fatbin. The emulator runs
// PTX only: a fatbin must carry an uncompressed PTX entry (fatbinary
// compresses by default; Tessel packages with compression off), and a bare
// cubin is refused with a message saying what to pass instead.
//
// Fatbin layout (as CUDA 13's fatbinary writes it): a 16-byte header (magic
// 0xBA55ED50, u16 version, u16 header size, u64 size of what follows), then
// entries, each a header (u16 kind: 1 PTX, 2 ELF; u32 header size at +4;
// u64 payload size at +8; u64 flags at +0x28, 0x2000 and 0x8000 meaning
// compressed) followed by its payload.
//
//===----------------------------------------------------------------------===//

#include "lib/Emulator/Fatbin.h"

#include <cstring>

namespace tessel::emu {

namespace {
template <typename T> T readAt(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
constexpr uint32_t kFatbinMagic = 0xBA55ED50u;
constexpr uint32_t kWrapperMagic = 0x466243B1u;
} // namespace

ImageKind extractPTX(const void *image, std::string &ptx, std::string &why) {
  const uint8_t *p = static_cast<const uint8_t *>(image);
  if (!p) {
    why = "no image";
    return ImageKind::Invalid;
  }
  uint32_t magic = readAt<uint32_t>(p);
  if (magic == kWrapperMagic) // __cudaRegisterFatBinary's wrapper
    p = reinterpret_cast<const uint8_t *>(readAt<uint64_t>(p + 8)), magic = readAt<uint32_t>(p);
  if (std::memcmp(p, "\x7f" "ELF", 4) == 0) {
    why = "the image is a cubin (machine code); the emulator runs PTX: load the PTX, or a "
          "fatbin that carries it uncompressed";
    return ImageKind::Cubin;
  }
  if (magic != kFatbinMagic) {
    // PTX text: NUL-terminated.
    ptx = reinterpret_cast<const char *>(p);
    if (ptx.find(".version") == std::string::npos && ptx.find(".entry") == std::string::npos) {
      why = "the image is neither PTX, a cubin nor a fatbin";
      return ImageKind::Invalid;
    }
    return ImageKind::PTX;
  }
  uint16_t headerSize = readAt<uint16_t>(p + 6);
  uint64_t size = readAt<uint64_t>(p + 8);
  const uint8_t *entry = p + headerSize, *end = p + headerSize + size;
  bool sawCompressed = false;
  while (entry + 0x40 <= end) {
    uint16_t kind = readAt<uint16_t>(entry);
    uint32_t entryHeader = readAt<uint32_t>(entry + 4);
    uint64_t payload = readAt<uint64_t>(entry + 8);
    uint64_t flags = readAt<uint64_t>(entry + 0x28);
    if (entryHeader < 0x40 || entry + entryHeader + payload > end)
      break;
    if (kind == 1) {
      if (flags & (0x2000 | 0x8000)) {
        sawCompressed = true;
      } else {
        const char *text = reinterpret_cast<const char *>(entry + entryHeader);
        ptx.assign(text, strnlen(text, payload));
        return ImageKind::Fatbin;
      }
    }
    entry += entryHeader + payload;
  }
  why = sawCompressed ? "the fatbin's PTX is compressed; the emulator reads uncompressed PTX "
                        "(fatbinary --compress=false)"
                      : "the fatbin carries no PTX; the emulator runs PTX only";
  return ImageKind::Invalid;
}

} // namespace tessel::emu
