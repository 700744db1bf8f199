//===- TensorMap.h - the emulator's encoding of CUtensorMap -------*- C++ -*-===//
//
// A real tensor map's 128 bytes are opaque; the emulator's
// cuTensorMapEncodeTiled writes this layout into them and its TMA copies
// read it back. A magic number tells an encoded map from garbage.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_EMULATOR_TENSORMAP_H
#define TESSEL_LIB_EMULATOR_TENSORMAP_H

#include <cstdint>
#include <string>

namespace tessel::emu {

constexpr uint32_t kTensorMapMagic = 0x50414d54; // "TMAP"

struct TensorMap {
  uint32_t magic = 0;
  uint8_t dtype = 0, rank = 0, interleave = 0, swizzle = 0; ///< swizzle: 0 none, 1 32B, 2 64B, 3 128B
  uint8_t l2Promotion = 0, oobFill = 0, elementBytes = 0, pad = 0;
  uint64_t address = 0;
  uint64_t dims[5] = {0, 0, 0, 0, 0};     ///< innermost first
  uint64_t strides[4] = {0, 0, 0, 0};     ///< bytes, of dims 1..rank-1
  uint32_t box[5] = {0, 0, 0, 0, 0};
  uint8_t elementStrides[5] = {0, 0, 0, 0, 0};
};
static_assert(sizeof(TensorMap) <= 128, "a CUtensorMap is 128 bytes");

/// Validates the driver's arguments as cuTensorMapEncodeTiled does; "" when
/// they are fine, else why not.
std::string encodeTensorMap(TensorMap &out, int dtype, unsigned rank, uint64_t address,
                            const uint64_t *dims, const uint64_t *strides, const uint32_t *box,
                            const uint32_t *elementStrides, int interleave, int swizzle,
                            int l2Promotion, int oobFill);

/// The byte width of a CUtensorMapDataType, 0 if unknown.
unsigned tensorMapElementBytes(int dtype);

/// The shared-memory address TMA and wgmma use for byte `address` under a
/// swizzle of `bytes` (0, 32, 64, 128): the 16-byte chunk index XOR the
/// 128-byte line index, on absolute address bits.
inline uint32_t swizzleAddress(uint32_t address, unsigned bytes) {
  switch (bytes) {
  case 32: return address ^ (((address >> 7) & 1) << 4);
  case 64: return address ^ (((address >> 7) & 3) << 4);
  case 128: return address ^ (((address >> 7) & 7) << 4);
  default: return address;
  }
}

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_TENSORMAP_H
