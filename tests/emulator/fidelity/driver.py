"""A small ctypes harness over a CUDA driver library.

The same code drives Tessel's emulator (libtessel_emu.so) and NVIDIA's
libcuda.so.1, so a case's outputs on the two can be compared.  Every call is
checked; a failure raises DriverError with the driver's error name and, when the
library exports it, the emulator's own message (tesselEmuLastError).
"""

import ctypes
from ctypes import (POINTER, byref, c_char_p, c_int, c_size_t, c_uint,
                    c_uint32, c_uint64, c_void_p)

import numpy as np

CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
CU_JIT_ERROR_LOG_BUFFER = 5
CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6

# CUtensorMapDataType, by numpy dtype of the global tensor.
TENSOR_MAP_DTYPE = {
    np.dtype(np.uint8): 0, np.dtype(np.int8): 0,
    np.dtype(np.uint16): 1, np.dtype(np.int16): 1,
    np.dtype(np.uint32): 2, np.dtype(np.int32): 3,
    np.dtype(np.uint64): 4, np.dtype(np.int64): 5,
    np.dtype(np.float16): 6, np.dtype(np.float32): 7,
    np.dtype(np.float64): 8,
}
SWIZZLE = {0: 0, 32: 1, 64: 2, 128: 3}  # CUtensorMapSwizzle by span in bytes


class DriverError(RuntimeError):
    pass


class TensorMap:
    """A 128-byte CUtensorMap, kept 64-byte aligned as the driver requires."""

    def __init__(self):
        self._raw = ctypes.create_string_buffer(128 + 64)
        self.address = (ctypes.addressof(self._raw) + 63) & ~63

    @property
    def ptr(self):
        return c_void_p(self.address)


class Driver:
    def __init__(self, path):
        self.path = path
        self.lib = lib = ctypes.CDLL(path)
        self._emu_error = getattr(lib, "tesselEmuLastError", None)
        if self._emu_error is not None:
            self._emu_error.restype = c_char_p
            self._emu_error.argtypes = []
        sig = {
            "cuInit": [c_uint],
            "cuDeviceGet": [POINTER(c_int), c_int],
            "cuDevicePrimaryCtxRetain": [POINTER(c_void_p), c_int],
            "cuCtxSetCurrent": [c_void_p],
            "cuCtxSynchronize": [],
            "cuModuleLoadData": [POINTER(c_void_p), c_char_p],
            "cuModuleLoadDataEx": [POINTER(c_void_p), c_char_p, c_uint,
                                   POINTER(c_int), POINTER(c_void_p)],
            "cuModuleUnload": [c_void_p],
            "cuModuleGetFunction": [POINTER(c_void_p), c_void_p, c_char_p],
            "cuFuncSetAttribute": [c_void_p, c_int, c_int],
            "cuMemAlloc_v2": [POINTER(c_uint64), c_size_t],
            "cuMemFree_v2": [c_uint64],
            "cuMemcpyHtoD_v2": [c_uint64, c_void_p, c_size_t],
            "cuMemcpyDtoH_v2": [c_void_p, c_uint64, c_size_t],
            "cuLaunchKernel": [c_void_p, c_uint, c_uint, c_uint, c_uint, c_uint,
                               c_uint, c_uint, c_void_p, POINTER(c_void_p),
                               POINTER(c_void_p)],
            "cuTensorMapEncodeTiled": [c_void_p, c_int, c_uint32, c_uint64,
                                       POINTER(c_uint64), POINTER(c_uint64),
                                       POINTER(c_uint32), POINTER(c_uint32),
                                       c_int, c_int, c_int, c_int],
            "cuGetErrorName": [c_int, POINTER(c_char_p)],
        }
        for name, argtypes in sig.items():
            fn = getattr(lib, name)
            fn.argtypes = argtypes
            fn.restype = c_int
        self._call("cuInit", 0)
        dev = c_int()
        self._call("cuDeviceGet", byref(dev), 0)
        self.ctx = c_void_p()
        self._call("cuDevicePrimaryCtxRetain", byref(self.ctx), dev)
        self._call("cuCtxSetCurrent", self.ctx)

    # -- errors ------------------------------------------------------------
    def _call(self, name, *args, detail=None):
        rc = getattr(self.lib, name)(*args)
        if rc != 0:
            raise DriverError(self._message(name, rc, detail))

    def _message(self, name, rc, detail):
        err = c_char_p()
        text = f"{name} failed: {rc}"
        if self.lib.cuGetErrorName(rc, byref(err)) == 0 and err.value:
            text += f" ({err.value.decode()})"
        if self._emu_error is not None:
            msg = self._emu_error()
            if msg:
                text += f": {msg.decode(errors='replace')}"
        if detail:
            text += f"\n{detail}"
        return text

    # -- modules -----------------------------------------------------------
    def load_ptx(self, ptx):
        """Loads PTX text; a JIT error log (real driver) is added to the error."""
        image = ptx.encode() if isinstance(ptx, str) else ptx
        module = c_void_p()
        log = ctypes.create_string_buffer(1 << 14)
        opts = (c_int * 2)(CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
        vals = (c_void_p * 2)(ctypes.addressof(log), len(log))
        rc = self.lib.cuModuleLoadDataEx(byref(module), image, 2, opts, vals)
        if rc != 0:
            raise DriverError(self._message("cuModuleLoadDataEx", rc,
                                            log.value.decode(errors="replace")))
        return module

    def unload(self, module):
        self._call("cuModuleUnload", module)

    def function(self, module, name):
        fn = c_void_p()
        self._call("cuModuleGetFunction", byref(fn), module, name.encode())
        return fn

    # -- memory ------------------------------------------------------------
    def alloc(self, nbytes):
        ptr = c_uint64()
        self._call("cuMemAlloc_v2", byref(ptr), max(int(nbytes), 1))
        return ptr.value

    def free(self, ptr):
        self._call("cuMemFree_v2", c_uint64(ptr))

    def upload(self, ptr, array):
        array = np.ascontiguousarray(array)
        if array.nbytes:
            self._call("cuMemcpyHtoD_v2", c_uint64(ptr),
                       array.ctypes.data_as(c_void_p), array.nbytes)

    def download(self, ptr, shape, dtype):
        out = np.empty(shape, dtype)
        if out.nbytes:
            self._call("cuMemcpyDtoH_v2", out.ctypes.data_as(c_void_p),
                       c_uint64(ptr), out.nbytes)
        return out

    # -- tensor maps -------------------------------------------------------
    def encode_tiled(self, dtype, address, dims, strides, box, elem_strides=None,
                     swizzle=0, oob_nan=False):
        """cuTensorMapEncodeTiled; dims/box innermost first, strides in bytes
        for dims 1..rank-1."""
        rank = len(dims)
        elem_strides = elem_strides or [1] * rank
        tmap = TensorMap()
        self._call(
            "cuTensorMapEncodeTiled", tmap.ptr, TENSOR_MAP_DTYPE[np.dtype(dtype)],
            rank, c_uint64(address), (c_uint64 * rank)(*dims),
            (c_uint64 * max(rank - 1, 1))(*(strides or [0])),
            (c_uint32 * rank)(*box), (c_uint32 * rank)(*elem_strides),
            0, SWIZZLE[swizzle], 0, 1 if oob_nan else 0)
        return tmap

    # -- launches ----------------------------------------------------------
    def launch(self, fn, grid, block, args, shared=0):
        """args: ctypes scalars (c_uint64 for device pointers) or TensorMaps,
        which travel by value as the kernel's 128-byte parameter."""
        addresses = [a.address if isinstance(a, TensorMap) else ctypes.addressof(a)
                     for a in args]
        params = (c_void_p * max(len(args), 1))(*addresses)
        if shared > 48 * 1024:
            self._call("cuFuncSetAttribute", fn,
                       CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shared)
        grid = tuple(grid) + (1,) * (3 - len(grid))
        block = tuple(block) + (1,) * (3 - len(block))
        self._call("cuLaunchKernel", fn, *grid, *block, shared, None, params, None)
        self._call("cuCtxSynchronize")
