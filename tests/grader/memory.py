"""Hand freed memory back to the system, so that a grading's peak is what it uses, not what it once used.

glibc's malloc keeps freed blocks in its heaps for reuse; after the instruments load (the ONNX export's graph, the
PyTorch network it was exported from, the copy bank's index) a grading held ~300 MiB it no longer needed, and
every later stage's temporaries came on top. Blocks of a MiB and more are mapped apart (returned the moment they
are freed) and the heaps are trimmed between stages. Other C libraries (macOS, Windows, musl) return memory their
own way: there this module does nothing, and nothing else depends on it.
"""
import ctypes
import ctypes.util
import functools
import sys

M_MMAP_THRESHOLD = -3
LARGE_BLOCK = 1 << 20  # glibc's own default starts at 128 KiB and grows with the largest block freed (to 32 MiB)


@functools.cache
def glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:  # musl, or no C library by that name
        return None


def map_large_blocks_apart() -> None:
    libc = glibc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)


def give_back() -> None:
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)
