"""Running compiled kernels: argument checks and output allocation (CPU backend)."""

from __future__ import annotations

import ctypes
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

try:
    import ml_dtypes
except ImportError:  # pragma: no cover - installed by scripts/setup.sh
    ml_dtypes = None

_NUMPY_DTYPES: Dict[str, Any] = {
    "float16": np.float16, "float32": np.float32, "float64": np.float64,
    "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
    "bool": np.bool_,
}
if ml_dtypes is not None:
    _NUMPY_DTYPES.update({
        "bfloat16": ml_dtypes.bfloat16,
        "float8_e4m3": ml_dtypes.float8_e4m3fn,
        "float8_e5m2": ml_dtypes.float8_e5m2,
    })


def numpy_dtype(name: str) -> Any:
    if name not in _NUMPY_DTYPES:
        raise TypeError("dtype %s has no numpy equivalent here (is ml_dtypes installed?)" % name)
    return np.dtype(_NUMPY_DTYPES[name])


def _as_numpy(value: Any, param: Any, kernel: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    device = getattr(value, "device", None)
    if device is not None and str(device) not in ("cpu",) and not str(device).startswith("cpu"):
        raise ValueError("%s(): argument %r is on device %s, but this kernel runs on the CPU"
                         % (kernel, param.name, device))
    if hasattr(value, "__dlpack__"):
        try:
            return np.from_dlpack(value)
        except (TypeError, RuntimeError, BufferError) as err:
            raise TypeError("%s(): argument %r cannot be read as a CPU array: %s"
                            % (kernel, param.name, err)) from None
    raise TypeError("%s(): argument %r must be a numpy array (or a CPU tensor with "
                    "__dlpack__), got %s" % (kernel, param.name, type(value).__name__))


def scalar_bits(value: Any, param: Any, kernel: str) -> int:
    """A scalar parameter's value as the bits its type stores (little-endian,
    in an int), after checking that it is a number the type holds."""
    dtype = numpy_dtype(param.dtype)
    if isinstance(value, (np.ndarray, list, tuple)) or hasattr(value, "__dlpack__") \
            or not isinstance(value, (bool, int, float, np.generic)):
        raise TypeError("%s(): argument %r is a %s scalar; pass a number, got %s"
                        % (kernel, param.name, param.dtype, type(value).__name__))
    if dtype.kind in "iu":
        if isinstance(value, (float, np.floating)) and not float(value).is_integer():
            raise TypeError("%s(): argument %r is a %s scalar; %r is not an integer"
                            % (kernel, param.name, param.dtype, value))
        info = np.iinfo(dtype)
        if not info.min <= int(value) <= info.max:
            raise ValueError("%s(): argument %r is a %s scalar; %d is out of its range "
                             "[%d, %d]" % (kernel, param.name, param.dtype, int(value),
                                           info.min, info.max))
        array = np.array(int(value), dtype)
    elif dtype.kind == "b":
        array = np.array(bool(value), dtype)
    else:
        array = np.array(float(value), np.float64).astype(dtype)
    return int.from_bytes(array.tobytes(), "little")


from tessel._cuda import grid_extent  # noqa: E402 (re-exported for the jit)


def _raw_view(array: np.ndarray) -> np.ndarray:
    """ml_dtypes arrays have no buffer protocol: pass their bits as integers."""
    if array.dtype.kind == "V" or array.dtype.type.__module__.startswith("ml_dtypes"):
        return array.view({1: np.uint8, 2: np.uint16}[array.dtype.itemsize])
    return array


def _inputs(kernel: Any, args: Sequence[Any]) -> Tuple[Any, List[int], List[int]]:
    """The kernel's parameters, the indices of its outputs (out_idx) and of
    the inputs the call must pass, which it checks it did."""
    params = kernel.signature.params
    outputs = kernel.out_idx
    inputs = [i for i in range(len(params))
              if i not in outputs and not params[i].is_workspace]
    if len(args) != len(inputs):
        names = ", ".join(params[i].name for i in inputs)
        raise TypeError("%s() takes %d arguments (%s), got %d"
                        % (kernel.name, len(inputs), names, len(args)))
    return params, outputs, inputs


def _bind_dynamic(kernel: Any, param: Any, shape: Sequence[int], dynamic: Dict[str, int]) -> None:
    """Checks `shape` against the parameter's static extents and records (or
    checks against earlier arguments) its dynamic ones by name."""
    if len(shape) != len(param.shape) or any(
            want >= 0 and want != got for want, got in zip(param.shape, shape)):
        raise ValueError("%s(): argument %r must have shape %s, got %s"
                         % (kernel.name, param.name, _shape_text(param), tuple(shape)))
    for d, (want, got) in enumerate(zip(param.shape, shape)):
        name = param.dynamic_names[d] if want < 0 else ""
        if name:
            if name in dynamic and dynamic[name] != got:
                raise ValueError("%s(): dynamic dimension %r is %d in an earlier argument "
                                 "but %d in %r" % (kernel.name, name, dynamic[name], got,
                                                   param.name))
            dynamic[name] = got


def _dynamic_expression(text: str, dynamic: Dict[str, int]) -> Optional[int]:
    """The value of a dimension the frontend named by an expression over
    dynamic dimensions ("mul(seq,4)", "ceildiv(M,128)": the manifest's grid
    grammar), from the bound names; None when it is not one or a name is
    unbound."""
    from tessel._cuda import grid_extent

    if "(" not in text:
        return None
    try:
        return grid_extent(text, dynamic)
    except (KeyError, IndexError, ZeroDivisionError):
        return None


def _check_dynamic_expressions(kernel: Any, params: Sequence[Any], indices: Sequence[int],
                               dynamic: Dict[str, int]) -> None:
    """An input dimension named by an expression (`seq * heads`) must equal
    it, once the plain names are bound."""
    for index in indices:
        param = params[index]
        if not param.is_buffer:
            continue
        for name in param.dynamic_names:
            if not name or name not in dynamic:
                continue
            expected = _dynamic_expression(name, dynamic)
            if expected is not None and expected != dynamic[name]:
                raise ValueError("%s(): argument %r has a dimension of %d, but its annotation "
                                 "says %s = %d" % (kernel.name, param.name, dynamic[name],
                                                   name, expected))


def _output_shape(kernel: Any, param: Any, dynamic: Dict[str, int]) -> List[int]:
    """An output's shape, its dynamic extents taken from the inputs."""
    shape = []
    for d, want in enumerate(param.shape):
        if want >= 0:
            shape.append(want)
            continue
        name = param.dynamic_names[d]
        if name not in dynamic and _dynamic_expression(name, dynamic) is not None:
            shape.append(_dynamic_expression(name, dynamic))
            continue
        if name not in dynamic:
            raise ValueError("%s(): cannot size output %r: its dimension %r is not "
                             "given by any input" % (kernel.name, param.name, name or d))
        shape.append(dynamic[name])
    return shape


def _checked_array(value: Any, param: Any, kernel: Any) -> np.ndarray:
    """A host tensor argument as a numpy array, checked against its
    parameter: dtype, rank, C-contiguous, writable when the kernel writes it."""
    array = _as_numpy(value, param, kernel.name)
    expected = numpy_dtype(param.dtype)
    if array.dtype != expected:
        raise TypeError("%s(): argument %r must have dtype %s, got %s"
                        % (kernel.name, param.name, param.dtype, array.dtype))
    if array.ndim != len(param.shape):
        raise ValueError("%s(): argument %r must have %d dimensions, got shape %s"
                         % (kernel.name, param.name, len(param.shape), array.shape))
    if not array.flags.c_contiguous:
        raise ValueError("%s(): argument %r must be C-contiguous; pass "
                         "numpy.ascontiguousarray(x)" % (kernel.name, param.name))
    if param.is_written and not array.flags.writeable:
        raise ValueError("%s(): argument %r is read-only, but the kernel writes it"
                         % (kernel.name, param.name))
    return array


def _span(value: Any) -> Optional[Tuple[int, int]]:
    """The bytes [first, end) a tensor argument occupies, or None."""
    if isinstance(value, _HostTensor):
        value = value.array
    if isinstance(value, np.ndarray):
        if value.nbytes == 0:
            return None
        start = value.__array_interface__["data"][0]
        low = start + sum(min(0, (n - 1) * s) for n, s in zip(value.shape, value.strides))
        high = start + sum(max(0, (n - 1) * s) for n, s in zip(value.shape, value.strides))
        return low, high + value.itemsize
    if hasattr(value, "data_ptr") and hasattr(value, "element_size"):
        nbytes = value.numel() * value.element_size()
        return (value.data_ptr(), value.data_ptr() + nbytes) if nbytes else None
    return None


def _check_aliasing(kernel: Any, params: Sequence[Any], values: Dict[int, Any]) -> None:
    """A tensor the kernel writes must not share memory with another tensor
    argument: an in-place GEMM reads what it already overwrote, silently
    wrong. Parameters declared T.Tensor(..., in_place=True) are let through."""
    spans = {i: _span(v) for i, v in values.items()}
    spans = {i: s for i, s in spans.items() if s is not None}
    for w, (w0, w1) in spans.items():
        out = params[w]
        if not out.is_written or getattr(out, "in_place", False):
            continue
        for o, (o0, o1) in spans.items():
            if o == w or getattr(params[o], "in_place", False) or not (w0 < o1 and o0 < w1):
                continue
            raise ValueError("%s(): output %r and argument %r share memory; pass separate "
                             "arrays, or declare the parameter T.Tensor(..., in_place=True) "
                             "if the kernel is written to work in place"
                             % (kernel.name, out.name, params[o].name))


def run_on_cpu(kernel: Any, module: Any, args: Sequence[Any]) -> Any:
    params, outputs, inputs = _inputs(kernel, args)
    buffers: List[Any] = [None] * len(params)
    dynamic: Dict[str, int] = {}
    for value, index in zip(args, inputs):
        param = params[index]
        if not param.is_buffer:
            buffers[index] = scalar_bits(value, param, kernel.name)
            continue
        array = _checked_array(value, param, kernel)
        _bind_dynamic(kernel, param, array.shape, dynamic)
        if not array.flags.writeable:
            array = array.copy()  # read only by the kernel: a copy is the same
        buffers[index] = array
    _check_aliasing(kernel, params, {i: buffers[i] for i in inputs
                                     if isinstance(buffers[i], np.ndarray)})
    _check_dynamic_expressions(kernel, params, inputs, dynamic)
    results = []
    for index in outputs:
        param = params[index]
        shape = _output_shape(kernel, param, dynamic)
        out = np.zeros(shape, numpy_dtype(param.dtype))
        buffers[index] = out
        results.append(out)
    for index, param in enumerate(params):
        if param.is_workspace:  # T.alloc_global's scratch, zeroed
            buffers[index] = np.zeros(param.shape, numpy_dtype(param.dtype))
    module.run(kernel.signature.entry,
               [b if isinstance(b, int) else _raw_view(b) for b in buffers])
    if not results:
        return None
    return results[0] if len(results) == 1 else tuple(results)


def _shape_text(param: Any) -> str:
    dims = [str(d) if d >= 0 else (param.dynamic_names[i] or "?")
            for i, d in enumerate(param.shape)]
    return "(" + ", ".join(dims) + ")"


def _torch_dtype_name(tensor: Any) -> str:
    return str(getattr(tensor, "dtype", "")).replace("torch.", "")


# DLPack (https://dmlc.github.io/dlpack): device type 2 is CUDA; dtype codes
# 0 int, 1 uint, 2 float, 4 bfloat, 6 bool, 8-12 the float8 kinds.
_DLPACK_CUDA = 2
_DLPACK_DTYPES = {
    (2, 16): "float16", (2, 32): "float32", (2, 64): "float64", (4, 16): "bfloat16",
    (0, 8): "int8", (0, 16): "int16", (0, 32): "int32", (0, 64): "int64",
    (1, 8): "uint8", (1, 16): "uint16", (1, 32): "uint32", (1, 64): "uint64", (6, 8): "bool", (10, 8): "float8_e4m3", (12, 8): "float8_e5m2",
}


class _DLPackCUDATensor:
    """The pointer, shape, strides and dtype of a CUDA tensor given through
    __dlpack__ (CuPy, JAX, ...), in the form the launcher reads from torch
    tensors. The producer's object must outlive the launch; the caller holds
    it, so the capsule is released right away."""

    def __init__(self, value: Any):
        class DLDevice(ctypes.Structure):
            _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]

        class DLDataType(ctypes.Structure):
            _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8),
                        ("lanes", ctypes.c_uint16)]

        class DLTensor(ctypes.Structure):
            _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice),
                        ("ndim", ctypes.c_int32), ("dtype", DLDataType),
                        ("shape", ctypes.POINTER(ctypes.c_int64)),
                        ("strides", ctypes.POINTER(ctypes.c_int64)),
                        ("byte_offset", ctypes.c_uint64)]

        class DLManagedTensor(ctypes.Structure):
            pass

        DLManagedTensor._fields_ = [
            ("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p),
            ("deleter", ctypes.CFUNCTYPE(None, ctypes.POINTER(DLManagedTensor)))]

        capsule = value.__dlpack__()
        api = ctypes.pythonapi
        api.PyCapsule_GetPointer.restype = ctypes.c_void_p
        api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        api.PyCapsule_SetName.argtypes = [ctypes.py_object, ctypes.c_char_p]
        address = api.PyCapsule_GetPointer(capsule, b"dltensor")
        managed = ctypes.cast(address, ctypes.POINTER(DLManagedTensor)).contents
        t = managed.dl_tensor
        self.is_cuda = t.device.device_type == _DLPACK_CUDA
        self.shape = tuple(t.shape[i] for i in range(t.ndim))
        if t.strides:
            self._strides = tuple(t.strides[i] for i in range(t.ndim))
        else:
            strides, step = [], 1
            for extent in reversed(self.shape):
                strides.append(step)
                step *= extent
            self._strides = tuple(reversed(strides))
        self.dtype = _DLPACK_DTYPES.get((t.dtype.code, t.dtype.bits),
                                        "dlpack(code=%d, bits=%d)" % (t.dtype.code, t.dtype.bits))
        if t.dtype.lanes != 1:
            self.dtype += "x%d" % t.dtype.lanes
        self._pointer = (t.data or 0) + t.byte_offset
        # Consumed: the producer's deleter runs now and the capsule is marked.
        api.PyCapsule_SetName(capsule, b"used_dltensor")
        if managed.deleter:
            managed.deleter(ctypes.pointer(managed))

    def data_ptr(self) -> int:
        return self._pointer

    def stride(self) -> tuple:
        return self._strides


def _cuda_tensor(value: Any) -> Any:
    """torch tensors as they are; other CUDA tensors through DLPack."""
    if getattr(value, "is_cuda", False) and hasattr(value, "data_ptr"):
        return value
    device = getattr(value, "__dlpack_device__", None)
    if device is not None and callable(device):
        try:
            kind = device()[0]
        except Exception:  # not a usable DLPack producer
            return value
        if int(kind) == _DLPACK_CUDA:
            return _DLPackCUDATensor(value)
    return value


class _HostTensor:
    """A numpy array given to a cuda-target kernel: copied to device memory
    for the launch (and back afterwards when the kernel writes it)."""

    def __init__(self, array: np.ndarray, param: Any, kernel: Any) -> None:
        from tessel import _cuda

        self.array = array
        self.param = param
        self.shape = array.shape
        self.buffer = _cuda.DeviceBuffer(array.nbytes)
        self.buffer.upload(_raw_view(array))

    def data_ptr(self) -> int:
        return self.buffer.pointer

    def stride(self) -> tuple:
        return tuple(s // max(self.array.itemsize, 1) for s in self.array.strides)

    def read_back(self) -> None:
        self.buffer.download(_raw_view(self.array))


def _host_array(value: Any, param: Any, kernel: Any) -> Optional[np.ndarray]:
    """`value` as a host array when it is one (numpy, or a CPU tensor),
    checked against the parameter; None when it is something else."""
    if getattr(value, "is_cuda", False):
        return None
    device = getattr(value, "__dlpack_device__", None)
    if device is not None and callable(device) and not isinstance(value, np.ndarray):
        try:
            if int(device()[0]) == _DLPACK_CUDA:
                return None
        except Exception:  # not a usable DLPack producer
            pass
    if not isinstance(value, np.ndarray) and not hasattr(value, "__dlpack__"):
        return None
    return _checked_array(value, param, kernel)


def run_on_cuda(kernel: Any, compiled: Any, args: Sequence[Any]) -> Any:
    """Checks the tensors against the signature and launches on the current
    stream. Tensors are CUDA tensors (torch, or anything with data_ptr/
    shape/stride/dtype/is_cuda, or DLPack) or numpy arrays, which are
    copied to device memory and back. Returns the outputs listed in
    out_idx: numpy arrays when no CUDA tensor was passed, else torch
    tensors on the inputs' device."""
    from tessel import _cuda

    params, outputs, inputs = _inputs(kernel, args)
    tensors: List[Any] = [None] * len(params)
    dynamic: Dict[str, int] = {}
    host: List[_HostTensor] = []
    for value, index in zip(args, inputs):
        param = params[index]
        if not param.is_buffer:
            # Passed by value: the driver copies the parameter's size from
            # the low bytes (little-endian) of this holder.
            tensors[index] = ctypes.c_uint64(scalar_bits(value, param, kernel.name))
            continue
        given = type(value).__name__
        array = _host_array(value, param, kernel)
        if array is not None:
            _bind_dynamic(kernel, param, array.shape, dynamic)
            tensors[index] = _HostTensor(array, param, kernel)
            host.append(tensors[index])
            continue
        value = _cuda_tensor(value)
        if not getattr(value, "is_cuda", False) or not hasattr(value, "data_ptr"):
            raise TypeError("%s(): argument %r must be a CUDA tensor (a torch.Tensor on the "
                            "GPU, or any DLPack CUDA tensor) or a numpy array, got %s"
                            % (kernel.name, param.name, given))
        if _torch_dtype_name(value) != param.dtype:
            raise TypeError("%s(): argument %r must have dtype %s, got %s"
                            % (kernel.name, param.name, param.dtype, _torch_dtype_name(value)))
        _bind_dynamic(kernel, param, list(value.shape), dynamic)
        tensors[index] = value
    on_device = any(t is not None and not isinstance(t, (_HostTensor, ctypes.c_uint64))
                    for t in tensors)
    _check_aliasing(kernel, params, {i: tensors[i] for i in inputs
                                     if tensors[i] is not None
                                     and not isinstance(tensors[i], ctypes.c_uint64)})
    _check_dynamic_expressions(kernel, params, inputs, dynamic)
    results = []
    for index in outputs:
        param = params[index]
        shape = _output_shape(kernel, param, dynamic)
        if not on_device:
            # Zeros, as the CPU backend's outputs start: what the kernel does
            # not write reads the same on both targets.
            out = np.zeros(shape, numpy_dtype(param.dtype))
            tensors[index] = _HostTensor(out, param, kernel)
            host.append(tensors[index])
            results.append(out)
            continue
        try:
            import torch
        except ImportError:
            raise RuntimeError("%s(): outputs (out_idx) beside CUDA tensors are allocated with "
                               "torch, which is not installed; drop out_idx and pass every "
                               "tensor" % kernel.name) from None
        device = next((t.device for t in tensors
                       if t is not None and hasattr(t, "device")
                       and str(getattr(t, "device", "")).startswith("cuda")), "cuda")
        out = torch.empty(shape, dtype=getattr(torch, param.dtype), device=device)
        tensors[index] = out
        results.append(out)
    for index, param in enumerate(params):
        if not param.is_workspace:
            continue
        # T.alloc_global's scratch, zeroed: host memory the launch copies
        # (numpy mode), else a torch tensor on the device.
        if not on_device:
            tensors[index] = _HostTensor(np.zeros(param.shape, numpy_dtype(param.dtype)),
                                         param, kernel)
            host.append(tensors[index])
            continue
        import torch

        tensors[index] = torch.zeros(param.shape, dtype=getattr(torch, param.dtype),
                                     device="cuda")
    # Several T.Kernels (a split-KV decoder and its combine) run one after
    # another on the same stream, each with every parameter.
    kernels = list(compiled) if isinstance(compiled, (list, tuple)) else [compiled]
    launchers = kernel._cuda_launcher
    if launchers is not None and not isinstance(launchers, list):
        launchers = [launchers]  # set by hand (a test's own launcher)
    if launchers is None:
        # The emulator runs PTX; a GPU takes the cubin when there is one.
        launchers = [
            _cuda.Kernel(c.ptx.encode() if _cuda.is_emulator() or not c.cubin else c.cubin,
                         c.name, c.threads, c.shared_bytes, c.grid,
                         registers=max(c.registers, 0))
            for c in kernels]
        kernel._cuda_launcher = launchers
    for param, t in zip(params, tensors):
        if param.is_buffer:
            launchers[0].check_tensor(param.name, t.data_ptr(), list(t.shape),
                                      list(t.stride()), list(t.shape))
    stream = 0
    torch_stream = None
    if on_device:
        try:
            import torch

            torch_stream = torch.cuda.current_stream()
            stream = torch_stream.cuda_stream
        except Exception:  # no torch: the legacy default stream
            pass
    if host and torch_stream is not None:
        # numpy arrays beside CUDA tensors: their copies run on the legacy
        # stream, which torch's side streams do not wait for (an upload
        # from pageable memory may still be in flight when cuMemcpy returns).
        torch.cuda.synchronize()
    for compiled, launcher in zip(kernels, launchers):
        # TMA descriptors (tma=True) follow the tensors, in parameter order.
        maps = []
        for m in sorted(compiled.tensor_maps, key=lambda m: m["param"]):
            t, param = tensors[m["tensor"]], params[m["tensor"]]
            maps.append(_cuda.tensor_map(param.dtype, t.data_ptr(), list(t.shape), m["box"],
                                         m["swizzle"]))
        # The dynamic dimensions follow the parameters; the grid may depend on them.
        values = [t if isinstance(t, ctypes.c_uint64) else t.data_ptr() for t in tensors]
        values += [ctypes.c_int64(dynamic[name]) for name in compiled.dynamic_params]
        grid = None
        if compiled.grid_exprs:
            grid = [grid_extent(e, dynamic) if e else g
                    for e, g in zip(compiled.grid_exprs, compiled.grid)]
            _cuda.check_grid(kernel.name, grid, compiled.grid_exprs)
        if grid is None or all(g > 0 for g in grid):  # no blocks: nothing to run
            launcher.launch(values, stream, maps, grid)
    if host and torch_stream is not None:
        torch_stream.synchronize()  # before the read-back on the legacy stream
    for t in host:
        if t.param.is_written or any(t.array is r for r in results):
            t.read_back()
    if not results:
        return None
    return results[0] if len(results) == 1 else tuple(results)
