"""Staff's maintenance pages for now, one module per job; importing them registers them."""

from . import backups, scans, sites  # noqa: F401
