"""The fidelity cases as files, to run on a machine that has a GPU but not
this suite's tools (nvcc may be missing there; ml_dtypes and pytest often
are).

    python3 bundle.py export DIR        # here: PTX, each case's arguments, the emulator's outputs
    python3 bundle.py replay DIR --driver libcuda.so.1 --save OUT   # there: the same launches
    python3 compare.py OUT DIR/emulator # where the two runs differ, bit for bit

export compiles every kernel (as test_fidelity.py does), writes DIR/ptx/,
DIR/cases.json (each launch: kernel, grid, block, shared memory and its
arguments: buffers, scalars, tensor maps), DIR/inputs/<case>.npz (the
buffers' bytes) and replays on the emulator into DIR/emulator. replay needs
numpy and driver.py only.
"""

import argparse
import ctypes
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from driver import Driver  # noqa: E402

RAW = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
# Scalars by their ctypes type code (c_int32 is c_int on this ABI: names vary).
CTYPES = {t._type_: t for t in (ctypes.c_int8, ctypes.c_uint8, ctypes.c_int16, ctypes.c_uint16,
                                ctypes.c_int32, ctypes.c_uint32, ctypes.c_int64,
                                ctypes.c_uint64, ctypes.c_float, ctypes.c_double)}


def raw(array):
    array = np.ascontiguousarray(array)
    return array.view(RAW[array.dtype.itemsize])


def export(directory):
    import cases as case_table
    from harness import Buf, Scalar

    sys.path.insert(0, os.path.dirname(HERE))
    import test_fidelity

    os.makedirs(os.path.join(directory, "ptx"), exist_ok=True)
    os.makedirs(os.path.join(directory, "inputs"), exist_ok=True)
    entries = []
    for case in case_table.CASES:
        ptx = os.path.join(directory, "ptx", os.path.splitext(case.src)[0] + ".ptx")
        if not os.path.exists(ptx):
            with open(ptx, "w") as f:
                f.write(test_fidelity.compile_ptx(case.src))
        args = case.args(np.random.default_rng(case.seed))
        buffers = {a.name: raw(a.array) for a in args if isinstance(a, Buf)}
        outputs = sorted(case.ref({a.name: a.array for a in args if isinstance(a, Buf)}))
        spec = []
        for a in args:
            if isinstance(a, Buf):
                spec.append({"buffer": a.name, "param": a.param})
            elif isinstance(a, Scalar):
                value = a.value.value
                spec.append({"scalar": type(a.value)._type_,
                             "value": float(value) if isinstance(value, float) else int(value)})
            else:
                spec.append({"tensor_map": a.buf, "dtype": np.dtype(a.dtype).str, "dims": list(a.dims),
                             "strides": list(a.strides), "box": list(a.box),
                             "elem_strides": list(a.elem_strides) if a.elem_strides else None,
                             "swizzle": int(a.swizzle), "oob_nan": bool(a.oob_nan)})
        np.savez(os.path.join(directory, "inputs", case.id + ".npz"), **buffers)
        entries.append({"id": case.id, "ptx": os.path.basename(ptx), "kernel": case.kernel,
                        "grid": list(case.grid), "block": list(case.block), "shared": case.shared,
                        "args": spec, "outputs": outputs})
    with open(os.path.join(directory, "cases.json"), "w") as f:
        json.dump(entries, f, indent=1)
    print("%d cases exported to %s" % (len(entries), directory))


def replay(directory, library, save):
    """Runs every exported case on the driver at `library`; returns how many
    failed to run."""
    with open(os.path.join(directory, "cases.json")) as f:
        entries = json.load(f)
    drv = Driver(library)
    modules = {}
    os.makedirs(save, exist_ok=True)
    failures = 0
    for e in entries:
        if e["ptx"] not in modules:
            with open(os.path.join(directory, "ptx", e["ptx"])) as f:
                modules[e["ptx"]] = drv.load_ptx(f.read())
        buffers = dict(np.load(os.path.join(directory, "inputs", e["id"] + ".npz")))
        pointers = {}
        try:
            for name, array in buffers.items():
                pointers[name] = drv.alloc(array.nbytes)
                drv.upload(pointers[name], array)
            params = []
            for a in e["args"]:
                if "buffer" in a:
                    if a["param"]:
                        params.append(ctypes.c_uint64(pointers[a["buffer"]]))
                elif "scalar" in a:
                    params.append(CTYPES[a["scalar"]](a["value"]))
                else:
                    params.append(drv.encode_tiled(np.dtype(a["dtype"]), pointers[a["tensor_map"]], a["dims"],
                                                   a["strides"], a["box"], a["elem_strides"],
                                                   a["swizzle"], a["oob_nan"]))
            function = drv.function(modules[e["ptx"]], e["kernel"])
            drv.launch(function, tuple(e["grid"]), tuple(e["block"]), params, e["shared"])
            for name in e["outputs"]:
                got = drv.download(pointers[name], buffers[name].shape, buffers[name].dtype)
                np.save(os.path.join(save, "%s.%s.npy" % (e["id"], name)), got)
        except Exception as error:  # reported per case; the others still run
            print("%s: %s" % (e["id"], error))
            failures += 1
        finally:
            for p in pointers.values():
                drv.free(p)
    print("%d cases replayed on %s, %d failed to run" % (len(entries), library, failures))
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["export", "replay"])
    parser.add_argument("directory")
    parser.add_argument("--driver", help="replay: the driver library (default libcuda.so.1)",
                        default="libcuda.so.1")
    parser.add_argument("--save", help="replay: where the outputs go")
    args = parser.parse_args(argv)
    if args.mode == "export":
        export(args.directory)
        emulator = os.path.join(os.environ.get("TESSEL_BUILD_DIR", os.path.join(
            os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "build")),
            "lib", "libtessel_emu.so")
        return 1 if replay(args.directory, emulator, os.path.join(args.directory, "emulator")) else 0
    if not args.save:
        parser.error("replay needs --save DIR")
    return 1 if replay(args.directory, args.driver, args.save) else 0


if __name__ == "__main__":
    sys.exit(main())
