"""The file-descriptor budget: every check in flight holds one socket."""

from __future__ import annotations

import resource

RESERVE = 256  # descriptors kept for the database, logs, DNS threads and the like
CEILING = 1 << 20  # what "unlimited" is taken to mean


def raise_fd_limit() -> int:
    """Raise the soft limit on open files to the hard limit; returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = CEILING if hard == resource.RLIM_INFINITY else min(hard, CEILING)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return CEILING if soft == resource.RLIM_INFINITY else soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        return soft
    return wanted


def concurrency_budget(requested: int, fd_limit: int) -> int:
    """Checks allowed in flight at once without running out of descriptors."""
    return max(1, min(requested, fd_limit - RESERVE))
