"""Linux: the kernel signals a process when its parent dies (prctl PR_SET_PDEATHSIG), so a
supervised part never outlives its supervisor."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
from collections.abc import Callable

#: prctl(2) option: the signal a process receives when its parent dies.
_PR_SET_PDEATHSIG = 1


def parent_death_signal(sig: signal.Signals) -> Callable[[], int] | None:
    """A call that arms `sig` for the calling process and returns prctl's result (0: armed; else
    see `ctypes.get_errno()`). prctl is resolved here, so the call is only a prctl: fit for a
    subprocess preexec hook, which runs between fork and exec. None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    prctl = ctypes.CDLL(name, use_errno=True).prctl

    def arm() -> int:
        return int(prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0))

    return arm
