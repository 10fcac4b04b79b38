"""Choose the number of PyTorch CPU threads.

OpenMP worker threads spin-wait at every barrier; when the cores are already
busy (load average >= core count) two threads ran a forward pass 4-14x slower
than one thread on the 2-core reference machine.  ``auto`` therefore uses one
thread on a busy machine and PyTorch's default otherwise.
"""
from __future__ import annotations

import os

import torch


def auto_threads() -> int:
    """1 when the machine is busy, else all cores."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0] >= cores
    except OSError:
        busy = False
    return 1 if busy else cores


def configure_threads(num_threads: int) -> int:
    """Apply ``num_threads`` (0 = auto) to PyTorch; returns the value used."""
    threads = num_threads if num_threads and num_threads > 0 else auto_threads()
    torch.set_num_threads(threads)
    return threads
