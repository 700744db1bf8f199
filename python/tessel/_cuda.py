"""The CUDA driver-API runtime (lib/Runtime) through ctypes.

Stands alone (no import of the compiler extension), so the GPU checks can
use it on a machine without LLVM. The library is found at
$TESSEL_RUNTIME_LIB, else in the package's lib/ (a wheel), else in the build.
"""

import ctypes
import os
from typing import Dict, Sequence

_lib = None


class CUDAError(RuntimeError):
    """A runtime call failed; the message says which and why."""


def _candidates(name="libtessel_runtime.so"):
    env = os.environ.get("TESSEL_RUNTIME_LIB")
    if env:
        yield env if name == "libtessel_runtime.so" else os.path.join(os.path.dirname(env), name)
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.environ.get("TESSEL_BUILD_DIR")
    if build:
        yield os.path.join(build, "lib", name)
    # An installed wheel keeps its libraries in lib/ inside the package.
    for rel in ("lib/" + name, name, "../../build/lib/" + name, "../../lib/" + name):
        yield os.path.normpath(os.path.join(here, rel))


def driver_path():
    """The CUDA driver library the runtime opens: $TESSEL_CUDA_DRIVER (a
    path, or "emu" for Tessel's emulator, libtessel_emu.so beside the
    runtime), else libcuda.so.1."""
    name = os.environ.get("TESSEL_CUDA_DRIVER") or "libcuda.so.1"
    if name != "emu":
        return name
    # The copy the runtime opens (lib/Runtime: the one beside itself), not
    # another one found elsewhere.
    runtime = _runtime_path()
    beside = os.path.join(os.path.dirname(runtime), "libtessel_emu.so") if runtime else ""
    return beside if beside and os.path.exists(beside) else "libtessel_emu.so"


def _runtime_path():
    """The runtime library library() loads (or would load); None if none."""
    return next((p for p in _candidates() if os.path.exists(p)), None)


def library():
    global _lib
    if _lib is not None:
        return _lib
    path = _runtime_path()
    if not path:
        raise CUDAError("the Tessel CUDA runtime (libtessel_runtime.so) was not found; "
                        "build with TESSEL_ENABLE_CUDA_RUNTIME=ON or set TESSEL_RUNTIME_LIB")
    lib = ctypes.CDLL(path)
    lib.tessel_rt_status_string.restype = ctypes.c_char_p
    lib.tessel_rt_last_error.restype = ctypes.c_char_p
    lib.tessel_rt_kernel_create.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_uint32,
        ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p)]
    lib.tessel_rt_launch.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_void_p),
        ctypes.c_void_p]
    lib.tessel_rt_kernel_destroy.argtypes = [ctypes.c_void_p]
    lib.tessel_rt_kernel_set_registers.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.tessel_rt_tensor_map_get.argtypes = [
        ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int, ctypes.c_uint64,
        ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_int64),
        ctypes.POINTER(ctypes.c_uint32), ctypes.c_uint32]
    lib.tessel_rt_driver_is_emulator.restype = ctypes.c_int
    lib.tessel_rt_mem_alloc.argtypes = [ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint64)]
    lib.tessel_rt_mem_free.argtypes = [ctypes.c_uint64]
    lib.tessel_rt_memcpy_to_device.argtypes = [ctypes.c_uint64, ctypes.c_void_p, ctypes.c_size_t]
    lib.tessel_rt_memcpy_to_host.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_size_t]
    lib.tessel_rt_check_tensor.argtypes = [
        ctypes.c_char_p, ctypes.c_uint64, ctypes.POINTER(ctypes.c_int64),
        ctypes.POINTER(ctypes.c_int64), ctypes.c_int, ctypes.POINTER(ctypes.c_int64),
        ctypes.c_int]
    _lib = lib
    return lib


def _check(status):
    if status:
        lib = library()
        detail = lib.tessel_rt_last_error().decode()
        summary = lib.tessel_rt_status_string(status).decode()
        if not detail:
            raise CUDAError(summary)
        raise CUDAError(detail if detail.startswith(summary) else f"{summary}: {detail}")


def is_emulator():
    """Whether the driver is Tessel's emulator (which runs PTX, not cubins)."""
    return bool(library().tessel_rt_driver_is_emulator())


class DeviceBuffer:
    """Device memory for a host array: allocated in the current context,
    filled from the array, read back into one, freed when dropped."""

    def __init__(self, nbytes):
        self.nbytes = max(int(nbytes), 1)
        self.pointer = 0
        out = ctypes.c_uint64()
        _check(library().tessel_rt_mem_alloc(self.nbytes, ctypes.byref(out)))
        self.pointer = out.value

    def upload(self, array):
        _check(library().tessel_rt_memcpy_to_device(self.pointer, array.ctypes.data,
                                                    array.nbytes))

    def download(self, array):
        _check(library().tessel_rt_memcpy_to_host(array.ctypes.data, self.pointer,
                                                  array.nbytes))

    def __del__(self):
        if self.pointer and _lib is not None:
            _lib.tessel_rt_mem_free(self.pointer)
            self.pointer = 0


_GRID_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "floordiv": lambda a, b: a // b, "ceildiv": lambda a, b: -(-a // b),
    "rem": lambda a, b: a % b, "min": min, "max": max,
}


GRID_LIMITS = (2**31 - 1, 65535, 65535)  # CUDA's most blocks along x, y, z


def check_grid(kernel: str, grid: Sequence[int], exprs: Sequence[str]) -> None:
    """Refuses a launch's grid outside CUDA's limits, naming the extent
    (ctypes would wrap 2**32 + 1 to 1 block; a negative extent would skip
    the launch and leave the outputs zero). Zero blocks is an empty launch."""
    for axis, (extent, limit) in enumerate(zip(grid, GRID_LIMITS)):
        if 0 <= extent <= limit:
            continue
        expr = exprs[axis] if axis < len(exprs) and exprs[axis] else ""
        raise ValueError("%s(): grid extent %s%s is %d for these dimensions; CUDA launches %s"
                         % (kernel, "xyz"[axis], " = " + expr if expr else "", extent,
                            "no negative extents" if extent < 0
                            else "at most %d blocks along %s" % (limit, "xyz"[axis])))


def grid_extent(text: str, dims: Dict[str, int]) -> int:
    """Evaluates a manifest grid expression ("ceildiv(m, 64)") over the
    launch's dynamic dimensions."""
    import re

    tokens = re.findall(r"-?\d+|[A-Za-z_][A-Za-z0-9_]*|[(),]", text)
    pos = 0

    def parse() -> int:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token.lstrip("-").isdigit():
            return int(token)
        if pos < len(tokens) and tokens[pos] == "(":
            pos += 1
            lhs = parse()
            pos += 1  # ","
            rhs = parse()
            pos += 1  # ")"
            return _GRID_OPS[token](lhs, rhs)
        return dims[token]

    return parse()


# Element types as the runtime's tessel_rt_tma_dtype numbers them.
TMA_DTYPES = {"float16": 6, "bfloat16": 9, "float32": 7, "float8_e4m3": 0,
              "float8_e5m2": 0, "int8": 0, "int32": 3}


def tensor_map(dtype, pointer, shape, box, swizzle):
    """A TMA descriptor (cached by the runtime) for a contiguous tensor; the
    address of its 128 bytes, which is what a launch passes for a
    descriptor parameter."""
    if dtype not in TMA_DTYPES:
        raise CUDAError(f"no TMA element type for {dtype}")
    out = ctypes.c_void_p()
    arr = lambda v, t: (t * len(v))(*v)
    _check(library().tessel_rt_tensor_map_get(
        ctypes.byref(out), TMA_DTYPES[dtype], len(shape), pointer,
        arr(shape, ctypes.c_int64), None, arr(box, ctypes.c_uint32), swizzle))
    return out.value


class Kernel:
    """A compiled kernel image (PTX or cubin) and what launching it needs."""

    def __init__(self, image, name, threads, shared_bytes, grid, registers=0):
        lib = library()
        self._handle = ctypes.c_void_p()
        data = image if isinstance(image, bytes) else image.encode()
        self._image = ctypes.create_string_buffer(data, len(data))
        _check(lib.tessel_rt_kernel_create(self._image, len(data), name.encode(),
                                           threads, shared_bytes,
                                           ctypes.byref(self._handle)))
        if registers:
            # What ptxas chose: the emulator checks setmaxnreg against it.
            _check(lib.tessel_rt_kernel_set_registers(self._handle, registers))
        self.name = name
        self.grid = tuple(grid)

    def check_tensor(self, name, pointer, shape, strides, expected_shape):
        rank = len(shape)
        arr = lambda v: (ctypes.c_int64 * max(len(v), 1))(*v)
        _check(library().tessel_rt_check_tensor(
            name.encode(), pointer, arr(shape), arr(strides), rank, arr(expected_shape),
            len(expected_shape)))

    def launch(self, pointers, stream=0, by_value=(), grid=None):
        """`pointers`: per kernel parameter, a device address (int) for a
        tensor, or a ctypes value holding a scalar parameter's bits (then
        the dynamic dimensions, as ctypes int64); `by_value`: addresses of
        parameters passed by value (TMA descriptors from tensor_map), which
        follow them. `grid`: this launch's, when it depends on the
        dynamic dimensions."""
        holders = [p if isinstance(p, ctypes._SimpleCData) else ctypes.c_void_p(p)
                   for p in pointers]
        addresses = [ctypes.cast(ctypes.pointer(h), ctypes.c_void_p) for h in holders]
        addresses += [ctypes.c_void_p(a) for a in by_value]
        args = (ctypes.c_void_p * max(len(addresses), 1))(*addresses)
        grid = (ctypes.c_uint32 * 3)(*(grid or self.grid))
        _check(library().tessel_rt_launch(self._handle, grid, args, ctypes.c_void_p(stream)))

    def __del__(self):
        if getattr(self, "_handle", None) and _lib is not None:
            _lib.tessel_rt_kernel_destroy(self._handle)
