"""Which machine a benchmark ran on, for the header of its results file.

The figures move with the CPU more than with anything else in a run (the int8 and fp32 paths
gain differently from AVX2, AVX-512 and VNNI), so each results file names the CPU model as well
as the core count.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` where that file is
    missing, as on macOS), or ``"CPU model unknown"``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU model unknown"


def machine_facts() -> str:
    """One phrase for a results header: CPU model, usable cores, Python version, e.g.
    ``"Intel Xeon ... (2 cores), Python 3.12.3"``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu_model()} ({cores} cores), Python {platform.python_version()}"
