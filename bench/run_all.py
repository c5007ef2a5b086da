"""Run every benchmark in bench/ in turn (``make bench``)."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = []
for script in sorted(here.glob("bench_*.py")):
    print(f"== {script.name}", flush=True)
    if subprocess.run([sys.executable, str(script)], check=False).returncode:  # noqa: S603
        failed.append(script.name)
if failed:
    sys.exit(f"failed: {', '.join(failed)}")
