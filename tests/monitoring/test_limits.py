"""The file-descriptor budget of the probe."""

import resource

from caredesk.monitoring.engine.limits import RESERVE, concurrency_budget, raise_fd_limit


def test_the_soft_limit_is_raised_to_the_hard_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 1024), hard))
        raised = raise_fd_limit()
        assert raised == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        assert raised == min(hard, 1 << 20) or hard == resource.RLIM_INFINITY
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_concurrency_leaves_room_for_everything_else():
    assert concurrency_budget(500, 20_000) == 500
    assert concurrency_budget(500, 512) == 512 - RESERVE
    assert concurrency_budget(500, 100) == 1
