"""``tessel.carver.arch``: facts about the device kernels run on."""

from __future__ import annotations

import os

__all__ = ["driver"]


class _Driver:
    """TileLang's ``carver.arch.driver``."""

    @staticmethod
    def get_num_sms(device_id: int = 0) -> int:
        """The streaming multiprocessors of CUDA device `device_id` as the
        driver ($TESSEL_CUDA_DRIVER, else libcuda; the emulator reports an
        H100's 132) sees them; with no CUDA device (the CPU target), the
        host's CPU count, so that persistent kernels still size their grid."""
        import ctypes

        from tessel import _cuda

        try:
            cuda = ctypes.CDLL(_cuda.driver_path())
            count, sms = ctypes.c_int(0), ctypes.c_int(0)
            # CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16
            if (cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0
                    and count.value > device_id
                    and cuda.cuDeviceGetAttribute(ctypes.byref(sms), 16, device_id) == 0
                    and sms.value > 0):
                return int(sms.value)
        except (OSError, AttributeError):
            pass
        return os.cpu_count() or 1


driver = _Driver()
