"""The on-disk cache of compiled CPU kernels: a second process does not
recompile, and a damaged or foreign entry is never served."""

import os
import shutil
import subprocess
import sys

import numpy as np
import tessel
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The directory holding the tessel package under test (the checkout's python/,
# or site-packages for an installed wheel), for the scripts run in a subprocess.
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(tessel.__file__)))

SCRIPT = r"""
import sys
sys.path.insert(0, {python!r})
sys.path.insert(0, {gemm!r})
import numpy as np, tessel
from gemm import matmul
kernel = tessel.jit(out_idx=[-1], target="cpu")(matmul.fn)(64, 64, {k})
a = np.ones((64, {k}), np.float16); b = np.ones(({k}, 64), np.float16)
c = kernel(a, b)
assert float(c[0, 0]) == {k}, c[0, 0]
print("from_cache=%s" % kernel._cpu().from_cache)
"""


def run(cache_dir, k=32, env=None):
    env = dict(os.environ, TESSEL_CACHE_DIR=str(cache_dir), **(env or {}))
    script = SCRIPT.format(python=PYTHON_DIR,
                           gemm=os.path.join(REPO, "examples", "gemm"), k=k)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


def entries(cache_dir):
    return sorted((cache_dir / "cpu").glob("*.tobj"))


def test_second_process_hits_the_cache(tmp_path):
    assert run(tmp_path) == "from_cache=False"
    assert len(entries(tmp_path)) == 1
    assert run(tmp_path) == "from_cache=True"
    # Another specialization is another entry, never the first one's kernel.
    assert run(tmp_path, k=64) == "from_cache=False"
    assert len(entries(tmp_path)) == 2


def test_damaged_entry_is_a_miss_and_is_replaced(tmp_path):
    run(tmp_path)
    (entry,) = entries(tmp_path)
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    assert run(tmp_path) == "from_cache=False"
    assert entry.read_bytes() == data
    # A flipped byte in the object fails the checksum too.
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0xFF
    entry.write_bytes(bytes(flipped))
    assert run(tmp_path) == "from_cache=False"
    assert run(tmp_path) == "from_cache=True"


def test_empty_and_cut_entries_are_misses(tmp_path):
    # A 0-byte entry is what a crash between create and write leaves (there
    # was no fsync before the rename): it aborted every later process on an
    # assert in readCachedObject. Now it is a miss and is replaced.
    run(tmp_path)
    (entry,) = entries(tmp_path)
    data = entry.read_bytes()
    for damaged in (b"", b"\n", b"tessel-cpu-object 1\n", data[:-1], data[:70]):
        entry.write_bytes(damaged)
        assert run(tmp_path) == "from_cache=False", damaged[:40]
        assert entry.read_bytes() == data
    assert run(tmp_path) == "from_cache=True"


def compiler_library():
    """The loaded shared library holding the compiler (libtessel.so)."""
    from tessel import _tessel  # noqa: F401  (loads it)
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if os.path.basename(path).startswith("libtessel.so"):
                return path
    return None


def test_a_rebuilt_compiler_does_not_meet_older_entries(tmp_path):
    # Same version, same kernel, but the compiler was rebuilt (here: a copy
    # of libtessel.so, found first through LD_LIBRARY_PATH, given a new
    # modification time): the older build's object is not served.
    library = compiler_library()
    if library is None:
        pytest.skip("the compiler is not a shared library in this build")
    libdir = tmp_path / "lib"
    libdir.mkdir()
    copy = libdir / os.path.basename(library)
    shutil.copy2(library, copy)
    # An installed libtessel finds the runtime beside itself ($ORIGIN).
    runtime = os.path.join(os.path.dirname(library), "libtessel_runtime.so")
    if os.path.exists(runtime):
        shutil.copy2(runtime, libdir / "libtessel_runtime.so")
    cache = tmp_path / "cache"
    env = {"LD_LIBRARY_PATH": str(libdir)}
    assert run(cache, env=env) == "from_cache=False"
    assert run(cache, env=env) == "from_cache=True"
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert run(cache, env=env) == "from_cache=False"
    assert run(cache, env=env) == "from_cache=True"


def test_cache_can_be_turned_off(tmp_path):
    assert run("off") == "from_cache=False"
    assert run("off") == "from_cache=False"
    assert not (tmp_path / "cpu").exists()


CUDA_SCRIPT = r"""
import sys
sys.path.insert(0, {python!r})
sys.path.insert(0, {gemm!r})
import hashlib, tessel
from gemm import matmul
kernel = tessel.jit(out_idx=[-1], target="cuda", tma={tma})(matmul.fn)({m}, 256, 256)
compiled = kernel._cuda()
print("from_cache=%s ptx=%s grid=%s" % (getattr(compiled, "from_cache", False),
                                hashlib.sha256(compiled.ptx.encode()).hexdigest()[:16],
                                ",".join(map(str, compiled.grid))))
"""


def run_cuda(cache_dir, tma=True, m=256):
    env = dict(os.environ, TESSEL_CACHE_DIR=str(cache_dir))
    script = CUDA_SCRIPT.format(python=PYTHON_DIR,
                                gemm=os.path.join(REPO, "examples", "gemm"), tma=tma, m=m)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.strip().split()


def test_cuda_kernels_come_from_the_cache_in_a_second_process(tmp_path):
    first = run_cuda(tmp_path)
    assert first[0] == "from_cache=False"
    (entry,) = (tmp_path / "cuda").glob("*.json")
    second = run_cuda(tmp_path)
    assert second[:2] == ["from_cache=True", first[1]]  # the same PTX
    # Another option is another kernel.
    assert run_cuda(tmp_path, tma=False)[0] == "from_cache=False"
    # A damaged entry is compiled again and rewritten, never served.
    data = entry.read_text()
    entry.write_text(data.replace('"registers": ', '"registers": 1', 1))
    assert run_cuda(tmp_path)[0] == "from_cache=False"
    assert run_cuda(tmp_path)[0] == "from_cache=True"
    entry.write_text(data[: len(data) // 2])
    assert run_cuda(tmp_path)[0] == "from_cache=False"
    assert run_cuda("off")[0] == "from_cache=False"


def test_a_cuda_entry_under_another_kernels_name_is_a_miss(tmp_path):
    # Before, a file copied to another key's name was served: the M=128
    # kernel's grid for M=512. Entries record their whole key now.
    small = run_cuda(tmp_path, m=128)
    (small_entry,) = (tmp_path / "cuda").glob("*.json")
    large = run_cuda(tmp_path, m=512)
    (large_entry,) = [e for e in (tmp_path / "cuda").glob("*.json") if e != small_entry]
    shutil.copyfile(small_entry, large_entry)
    again = run_cuda(tmp_path, m=512)
    assert again[0] == "from_cache=False"
    assert again[2] == large[2] != small[2]  # the grid of M=512
    assert run_cuda(tmp_path, m=512)[0] == "from_cache=True"
