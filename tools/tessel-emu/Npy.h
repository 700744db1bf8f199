//===- Npy.h - numpy's .npy files, little-endian and C-ordered ---*- C++ -*-===//

#ifndef TESSEL_TOOLS_TESSEL_EMU_NPY_H
#define TESSEL_TOOLS_TESSEL_EMU_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace tessel {

struct NpyArray {
  std::vector<int64_t> shape;
  size_t itemSize = 0;
  std::vector<uint8_t> data;
};

/// Reads a C-ordered little-endian array of any element type (its bytes);
/// false with `why` otherwise.
bool readNpy(const std::string &path, NpyArray &out, std::string &why);

/// Writes `array` with the numpy type of `dtype` (bfloat16 and fp8, which
/// numpy lacks, as unsigned integers of their width).
bool writeNpy(const std::string &path, const NpyArray &array, const std::string &dtype,
              std::string &why);

} // namespace tessel

#endif // TESSEL_TOOLS_TESSEL_EMU_NPY_H
