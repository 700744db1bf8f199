"""Every check the emulator makes, each broken by a kernel of
checks/checks.ptx, and the error the launch gets from Python (the same
runtime path tessel.jit takes). The passing variants (a fence or a barrier
added) show each check fires only on the broken kernel."""

import ctypes
import os
import re

import numpy as np
import pytest

from tessel import _cuda

HERE = os.path.dirname(os.path.abspath(__file__))
PTX = open(os.path.join(HERE, "checks", "checks.ptx")).read()


def ptx_line(text, kernel=None):
    """The 1-based line of PTX holding `text` (inside `kernel` when given)."""
    lines = PTX.splitlines()
    start = 0
    if kernel:
        start = next(i for i, l in enumerate(lines) if l.startswith(".visible .entry " + kernel))
    return next(i + 1 for i, l in enumerate(lines) if i >= start and text in l)


def variant(marker, replacement):
    return PTX.replace("\t// " + marker, "\t" + replacement)


def launch(name, threads, args=(), ptx=PTX, maps=(), grid=(1, 1, 1)):
    kernel = _cuda.Kernel(ptx.encode(), name, threads, 0, grid)
    kernel.launch(list(args), 0, list(maps))


def error_of(name, threads, **kwargs):
    with pytest.raises(_cuda.CUDAError) as info:
        launch(name, threads, **kwargs)
    return str(info.value)


def located(kernel, instruction, source_line, warp=0, thread=0):
    """The emulator's location prefix for thread `thread`."""
    line = ptx_line(instruction, kernel)
    text = PTX.splitlines()[line - 1].strip()
    return ("block (0, 0, 0) warp %d thread %d, PTX line %d `%s` (kernel.py:%d)"
            % (warp, thread, line, text, source_line))


def test_deadlock_names_every_warps_waiting_instruction():
    message = error_of("deadlock", 64)
    assert message.startswith("a CUDA driver call failed: launching 'deadlock': the launch "
                              "timed out and was terminated\n")
    assert "deadlock in block (0, 0, 0): every live thread waits and nothing is in flight" in message
    low, high = ptx_line("bar.sync \t1, 64;"), ptx_line("bar.sync \t2, 64;")
    assert ("  warp 0 (32 threads from 0): PTX line %d `bar.sync \t1, 64;` (kernel.py:4) at "
            "barrier 1\n" % low) in message
    assert ("  warp 1 (32 threads from 32): PTX line %d `bar.sync \t2, 64;` (kernel.py:6) at "
            "barrier 2\n" % high) in message
    assert message.endswith("  barrier 1: 32 of 64 threads arrived\n"
                            "  barrier 2: 32 of 64 threads arrived\n")


def test_global_out_of_bounds():
    buffer = _cuda.DeviceBuffer(256)
    message = error_of("oob_global", 32, args=[buffer.pointer])
    assert "an illegal memory access was encountered" in message
    prefix = located("oob_global", "ld.global.f32", 11)
    assert re.search(re.escape(prefix) + r": global memory access of 4 bytes at 0x[0-9a-f]+ is "
                     r"outside every allocation \(0 bytes past the end of the 256-byte "
                     r"allocation at 0x[0-9a-f]+\)", message), message


def test_shared_out_of_bounds():
    message = error_of("oob_shared", 32)
    assert (located("oob_shared", "st.shared.b32", 15) + ": shared memory access of 4 bytes at "
            "0x40 is outside the block's 64 bytes of shared memory") in message


def test_wgmma_reads_unfenced_generic_writes():
    out = _cuda.DeviceBuffer(128 * 16)
    message = error_of("wgmma_fence", 128, args=[out.pointer])
    store = ptx_line("st.shared.v4.b32 \t[%r4], {", "wgmma_fence")
    assert (located("wgmma_fence", "wgmma.mma_async", 22) +
            ": this wgmma.mma_async: it reads shared memory at 0x0 that thread 0 wrote through "
            "the generic proxy (PTX line %d) with no fence.proxy.async by that thread since; "
            "the async proxy may not see the write" % store) in message
    # With the fence each writing thread owes, the same kernel runs, and
    # A (1, 0, 1, 0, ...) times B gives 8 in every element.
    launch("wgmma_fence", 128, args=[out.pointer],
           ptx=variant("FENCE", "fence.proxy.async.shared::cta;"))
    d = np.zeros((128, 4), np.float32)
    out.download(d)
    assert (d == 8).all()


def test_wgmma_register_touched_after_fence():
    out = _cuda.DeviceBuffer(128 * 16)
    ptx = variant("FENCE", "fence.proxy.async.shared::cta;").replace(
        "\t// TOUCH", "\tmov.f32 \t%f2, 0f3F800000;")
    with pytest.raises(_cuda.CUDAError) as info:
        launch("wgmma_fence", 128, args=[out.pointer], ptx=ptx)
    lines = ptx.splitlines()
    touch = next(i + 1 for i, l in enumerate(lines) if "%f2, 0f3F800000" in l)
    assert ("register %%f2 of this wgmma.mma_async was accessed at block (0, 0, 0) warp 0 "
            "thread 0, PTX line %d `mov.f32 \t%%f2, 0f3F800000;` (kernel.py:20) after the last "
            "wgmma.fence; put a wgmma.fence between that access and the wgmma (PTX ISA "
            "9.7.15.7.1)" % touch) in str(info.value)


def test_wgmma_accumulator_read_before_wait():
    out = _cuda.DeviceBuffer(128 * 16)
    ptx = variant("FENCE", "fence.proxy.async.shared::cta;").replace(
        "\t// EARLY", "\tmov.f32 \t%f5, %f1;")
    with pytest.raises(_cuda.CUDAError) as info:
        launch("wgmma_fence", 128, args=[out.pointer], ptx=ptx)
    assert ("register %f1 belongs to a wgmma.mma_async still in flight; it may be read or "
            "written only after the wgmma.wait_group that covers it") in str(info.value)
    assert "`mov.f32 \t%f5, %f1;`" in str(info.value)


def test_wgmma_descriptor_misaligned_for_its_swizzle():
    # B's descriptor with the 128-byte swizzle (mode 1) starting 512 bytes
    # into an atom: row 4 of it, where no tile written for that swizzle is.
    out = _cuda.DeviceBuffer(128 * 16)
    swizzled = (1 << 62) | (64 << 32) | ((512 >> 4) & 0x3fff)
    ptx = variant("FENCE", "fence.proxy.async.shared::cta;").replace(
        "mov.b64 \t%rd2, 68720001152;", "mov.b64 \t%rd2, " + str(swizzled) + ";")
    with pytest.raises(_cuda.CUDAError) as info:
        launch("wgmma_fence", 128, args=[out.pointer], ptx=ptx)
    assert ("operand B's matrix descriptor starts at shared address 0x200, inside row 4 of a "
            "1024-byte 128-byte-swizzle atom: the tile is misaligned for its swizzle (it must "
            "start on an atom boundary)") in str(info.value)
    assert "misaligned address" in str(info.value)


def tma_map():
    source = _cuda.DeviceBuffer(128)
    return source, _cuda.tensor_map("float32", source.pointer, [32], [32], 0)


def test_tma_overwrites_unfenced_generic_write():
    source, tmap = tma_map()
    message = error_of("tma_overwrite", 32, args=[ctypes.c_uint32(0)], maps=[tmap])
    store = ptx_line("st.shared.b32 \t[%r2], %r3;", "tma_overwrite")
    assert (located("tma_overwrite", "cp.async.bulk.tensor.1d", 32) +
            ": this TMA load: it overwrites shared memory at 0x0 that thread 0 wrote through "
            "the generic proxy (PTX line %d) with no fence.proxy.async by that thread since; "
            "the two writes are unordered" % store) in message
    launch("tma_overwrite", 32, args=[ctypes.c_uint32(0)], maps=[tmap],
           ptx=variant("FENCE", "fence.proxy.async.shared::cta;"))


def test_tma_destination_misaligned():
    source, tmap = tma_map()
    message = error_of("tma_overwrite", 32, args=[ctypes.c_uint32(16)], maps=[tmap],
                       ptx=variant("FENCE", "fence.proxy.async.shared::cta;"))
    assert ("`cp.async.bulk.tensor.1d.shared::cluster.global.tile.mbarrier::complete_tx::bytes "
            "[%r2], [%rd2, {%r5}], [%r4];` (kernel.py:32): the TMA destination (shared address "
            "16) is not 128-byte aligned") in message
    assert "misaligned address" in message


def test_racecheck(monkeypatch):
    launch("race", 64)  # unchecked by default
    monkeypatch.setenv("TESSEL_EMU_RACECHECK", "1")
    message = error_of("race", 64)
    store = ptx_line("st.shared.b32 \t[%r3], %r1;", "race")
    assert ("block (0, 0, 0) warp 1 thread 32, PTX line %d `st.shared.b32 \t[%%r3], %%r1;` "
            "(kernel.py:40): shared-memory race (write after write) at 0x0: this write and "
            "the write by block (0, 0, 0) warp 0 thread 0, PTX line %d `st.shared.b32 \t[%%r3], "
            "%%r1;` (kernel.py:40) are not ordered by any barrier or mbarrier"
            % (store, store)) in message
    # Ordered by a barrier (every thread passes it) the writes do not race.
    ordered = PTX.replace("\t@%p1 bra \tRACE_DONE;\n\tmov.u32 \t%r3, race_word;",
                          "\tmov.u32 \t%r3, race_word;\n\tbar.sync \t0;\n\t@%p1 bra \tRACE_DONE;")
    ordered = ordered.replace("\tst.shared.b32 \t[%r3], %r1;\n\t// FENCE",
                              "\tst.shared.b32 \t[%r3], %r1;")
    launch_two_rounds = ordered.replace("\tsetp.ne.u32 \t%p1, %r2, 0;",
                                        "\tsetp.ne.u32 \t%p1, %r1, 0;")
    launch("race", 64, ptx=launch_two_rounds)


def test_mbarrier_reinitialized_in_use():
    message = error_of("mbarrier_reinit", 1)
    init = ptx_line("mbarrier.init.shared::cta.b64 \t[%r1], 2;")
    assert (located("mbarrier_reinit", "mbarrier.init.shared::cta.b64 \t[%r1], 1;", 45) +
            ": mbarrier.init re-initializes the mbarrier at shared address 0 while it is in use "
            "(initialized at PTX line %d; 1 arrivals and tx-count 0 in its current phase)"
            % init) in message


def test_mbarrier_more_arrivals_than_expected():
    message = error_of("mbarrier_overarrive", 1)
    init = ptx_line("mbarrier.init.shared::cta.b64 \t[%r1], 1;", "mbarrier_overarrive")
    assert (located("mbarrier_overarrive", "mbarrier.arrive.shared::cta.b64", 50) +
            ": more arrivals on the mbarrier at shared address 0 than its phase expects (1, "
            "initialized at PTX line %d)" % init) in message


def test_mbarrier_transaction_count_never_balanced():
    message = error_of("mbarrier_tx", 1)
    wait = ptx_line("mbarrier.try_wait.parity", "mbarrier_tx")
    init = ptx_line("mbarrier.init.shared::cta.b64 \t[%r1], 1;", "mbarrier_tx")
    assert ("  warp 0 (1 thread from 0): PTX line %d `mbarrier.try_wait.parity.shared::cta.b64 "
            "\t%%p1, [%%r1], %%r2;` (kernel.py:55) on the mbarrier at shared address 0 for the "
            "phase of parity 0" % wait) in message
    assert ("  mbarrier at shared address 0 (initialized at PTX line %d): phase 0, 0 of 1 "
            "arrivals pending, tx-count 32 (expected bytes that no copy will deliver)"
            % init) in message


def test_barrier_thread_counts_disagree():
    message = error_of("barrier_count", 128)
    first = ptx_line("bar.sync \t1, 64;", "barrier_count")
    assert (located("barrier_count", "bar.sync \t1, 96;", 61, warp=1, thread=32) +
            ": barrier 1 is reached with a thread count of 96 here but 64 at PTX line %d while "
            "it is in use" % first) in message


def test_setmaxnreg_count():
    message = error_of("setmaxnreg_count", 128)
    assert ("(kernel.py:65): setmaxnreg's count 100 is not a multiple of 8 from 24 to 256"
            in message)


def test_unsupported_instruction_is_an_error():
    message = error_of("unsupported", 32)
    assert ("launching 'unsupported': operation not supported\n" + located(
        "unsupported", "mapa.shared::cluster", 70) +
        ": the emulator does not run this instruction (yet)") in message
