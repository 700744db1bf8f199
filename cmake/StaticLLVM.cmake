# TESSEL_STATIC_LLVM: LLVM and MLIR linked statically into libtessel.so, the
# build the wheel ships (pyproject.toml), so that an installed Tessel needs no
# LLVM on the machine.
#
# Debian's MLIR CMake package cannot drive this link by its targets: it is
# built with LLVM_LINK_LLVM_DYLIB, so its static targets depend on the shared
# LLVM and MLIR targets (MLIRExecutionEngine's link interface is "LLVM;MLIR"),
# not on each other. So the link names the archives themselves, as one group:
# the linker takes only the members Tessel's code reaches, whatever order the
# archives come in. Nothing is loaded from /usr/lib/llvm-* at run time.
#
# Sets TESSEL_MLIR_LIBS and TESSEL_LLVM_LIBS to the group.

file(GLOB tessel_llvm_archives
  "${LLVM_LIBRARY_DIR}/libLLVM*.a"
  "${LLVM_LIBRARY_DIR}/libMLIR*.a")
# mlir-opt's own main() (Debian puts it in an archive of its own).
list(FILTER tessel_llvm_archives EXCLUDE REGEX "/libMLIRMlirOptMain\\.a$")
list(LENGTH tessel_llvm_archives tessel_llvm_archive_count)
if(tessel_llvm_archive_count LESS 100)
  message(FATAL_ERROR "TESSEL_STATIC_LLVM: found ${tessel_llvm_archive_count} LLVM/MLIR archives "
                      "in ${LLVM_LIBRARY_DIR}; install llvm-22-dev and libmlir-22-dev")
endif()

# LLVM compresses debug sections with zstd and zlib; both go in statically
# (Debian: libzstd-dev, zlib1g-dev). z3 (only the static analyzer's solver
# uses it) and libffi (the interpreter) are left out: nothing Tessel links
# reaches them.
find_library(TESSEL_ZSTD_STATIC NAMES libzstd.a)
find_library(TESSEL_ZLIB_STATIC NAMES libz.a)
if(NOT TESSEL_ZSTD_STATIC OR NOT TESSEL_ZLIB_STATIC)
  message(FATAL_ERROR "TESSEL_STATIC_LLVM needs the static zstd and zlib "
                      "(Debian: apt-get install libzstd-dev zlib1g-dev)")
endif()
find_package(Threads REQUIRED)

add_library(TesselStaticLLVM INTERFACE)
target_link_libraries(TesselStaticLLVM INTERFACE
  -Wl,--start-group ${tessel_llvm_archives} -Wl,--end-group
  ${TESSEL_ZSTD_STATIC} ${TESSEL_ZLIB_STATIC} Threads::Threads ${CMAKE_DL_LIBS} m)
# Unreferenced sections of what was pulled in go too.
target_link_options(TesselStaticLLVM INTERFACE -Wl,--gc-sections)

set(TESSEL_MLIR_LIBS TesselStaticLLVM)
set(TESSEL_LLVM_LIBS TesselStaticLLVM)
message(STATUS "Linking ${tessel_llvm_archive_count} LLVM/MLIR archives statically")
