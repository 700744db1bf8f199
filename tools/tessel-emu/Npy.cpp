//===- Npy.cpp - numpy's .npy files, little-endian and C-ordered -----------===//
//
// The format: "\x93NUMPY", a version (1.0: a 2-byte header length; 2.0 and
// 3.0: 4 bytes), then a Python dict literal with 'descr', 'fortran_order'
// and 'shape', padded so the data starts 64-byte aligned.
//
//===----------------------------------------------------------------------===//

#include "tools/tessel-emu/Npy.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace tessel {

namespace {
/// The value of 'key' in the header dict, up to the next top-level comma.
std::string field(const std::string &header, const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return "";
  size_t colon = header.find(':', at);
  if (colon == std::string::npos)
    return "";
  size_t end = colon + 1;
  int depth = 0;
  for (; end < header.size(); ++end) {
    char c = header[end];
    if (c == '(')
      ++depth;
    else if (c == ')')
      --depth;
    else if ((c == ',' || c == '}') && depth == 0)
      break;
  }
  std::string v = header.substr(colon + 1, end - colon - 1);
  size_t b = v.find_first_not_of(" "), e = v.find_last_not_of(" ");
  return b == std::string::npos ? "" : v.substr(b, e - b + 1);
}
} // namespace

bool readNpy(const std::string &path, NpyArray &out, std::string &why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot open it";
    return false;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    why = "not a .npy file";
    return false;
  }
  uint8_t major = uint8_t(bytes[6]);
  size_t headerLen, start;
  if (major == 1) {
    headerLen = uint8_t(bytes[8]) | size_t(uint8_t(bytes[9])) << 8;
    start = 10;
  } else {
    if (bytes.size() < 12) {
      why = "a truncated header";
      return false;
    }
    uint32_t n;
    std::memcpy(&n, bytes.data() + 8, 4);
    headerLen = n;
    start = 12;
  }
  if (start + headerLen > bytes.size()) {
    why = "a truncated header";
    return false;
  }
  std::string header = bytes.substr(start, headerLen);
  std::string descr = field(header, "descr");
  if (field(header, "fortran_order") == "True") {
    why = "a Fortran-ordered array; save it C-ordered (numpy.ascontiguousarray)";
    return false;
  }
  // '<f4', '|u1', '<V2' (ml_dtypes' types), ...: byte order, kind, size.
  if (descr.size() < 5 || descr.front() != '\'' || descr[1] == '>') {
    why = "a big-endian or structured array (" + descr + ")";
    return false;
  }
  out.itemSize = size_t(std::atoi(descr.c_str() + 3));
  std::string shape = field(header, "shape");
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')') {
    why = "a header without a shape tuple";
    return false;
  }
  out.shape.clear();
  std::istringstream dims(shape.substr(1, shape.size() - 2));
  std::string dim;
  size_t count = 1;
  while (std::getline(dims, dim, ',')) {
    size_t b = dim.find_first_not_of(" "), e = dim.find_last_not_of(" ");
    if (b == std::string::npos)
      continue;
    std::string digits = dim.substr(b, e - b + 1);
    char *endp = nullptr;
    errno = 0;
    long long extent = std::strtoll(digits.c_str(), &endp, 10);
    if (errno || *endp || extent < 0 || __builtin_mul_overflow(count, size_t(extent), &count)) {
      why = "a shape with an extent that is not a size (" + digits + ")";
      return false;
    }
    out.shape.push_back(extent);
  }
  size_t dataStart = start + headerLen, dataBytes = 0;
  if (!out.itemSize || __builtin_mul_overflow(count, out.itemSize, &dataBytes) ||
      bytes.size() - dataStart < dataBytes) {
    why = "less data than its shape says";
    return false;
  }
  out.data.assign(bytes.begin() + long(dataStart),
                  bytes.begin() + long(dataStart + count * out.itemSize));
  return true;
}

bool writeNpy(const std::string &path, const NpyArray &array, const std::string &dtype,
              std::string &why) {
  std::string descr = dtype == "float16" ? "<f2" : dtype == "float32" ? "<f4"
                      : dtype == "float64" ? "<f8" : dtype == "int8" ? "|i1"
                      : dtype == "int16" ? "<i2" : dtype == "int32" ? "<i4"
                      : dtype == "int64" ? "<i8" : dtype == "bool" ? "|b1"
                      : dtype == "uint16" ? "<u2" : dtype == "uint32" ? "<u4"
                      : dtype == "uint64" ? "<u8"
                      : dtype == "bfloat16" ? "<u2" : "|u1";
  std::string shape = "(";
  for (size_t d = 0; d < array.shape.size(); ++d)
    shape += std::to_string(array.shape[d]) + (array.shape.size() == 1 ? "," : d + 1 < array.shape.size() ? ", " : "");
  shape += ")";
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) {
    why = "cannot write it";
    return false;
  }
  out.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = uint16_t(header.size());
  out.put(char(len & 0xff));
  out.put(char(len >> 8));
  out << header;
  out.write(reinterpret_cast<const char *>(array.data.data()), std::streamsize(array.data.size()));
  return bool(out);
}

} // namespace tessel
