//===- Errors.h - how the emulator reports what went wrong --------*- C++ -*-===//

#ifndef TESSEL_LIB_EMULATOR_ERRORS_H
#define TESSEL_LIB_EMULATOR_ERRORS_H

#include <stdexcept>
#include <string>

namespace tessel::emu {

/// CUresult values the emulator returns (numbered as cuda.h numbers them).
enum Result : int {
  Success = 0,
  ErrInvalidValue = 1,
  ErrOutOfMemory = 2,
  ErrNotInitialized = 3,
  ErrNoDevice = 100,
  ErrInvalidDevice = 101,
  ErrInvalidImage = 200,
  ErrInvalidContext = 201,
  ErrNoBinaryForGPU = 209,
  ErrInvalidPTX = 218,
  ErrInvalidHandle = 400,
  ErrNotFound = 500,
  ErrIllegalAddress = 700,
  ErrLaunchOutOfResources = 701,
  ErrLaunchTimeout = 702,
  ErrAssert = 710,
  ErrIllegalInstruction = 715,
  ErrMisalignedAddress = 716,
  ErrInvalidAddressSpace = 717,
  ErrLaunchFailed = 719,
  ErrNotSupported = 801,
  ErrUnknown = 999,
};

/// A failure with the CUresult it maps to. Thrown inside the emulator and
/// caught at the driver-API boundary, which records the message.
class EmuError : public std::runtime_error {
public:
  EmuError(Result code, const std::string &message)
      : std::runtime_error(message), code(code) {}
  Result code;
};

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_ERRORS_H
