"""The restic wrapper against the real program: a repository made on first use, clear
errors for a missing program or a wrong password, a lock held too long, retention by host."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from caredesk.maintenance import restic

from .conftest import RESTIC_PASSWORD

pytestmark = pytest.mark.skipif(shutil.which("restic") is None, reason="restic is not installed")


def folder_with(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "database.sql").write_text(text)
    return folder


def test_a_repository_is_made_on_first_use_and_holds_what_was_stored(tmp_path):
    repo = restic.Repository(str(tmp_path / "new" / "repo"), RESTIC_PASSWORD)
    repo.ensure()
    stored = repo.backup(folder_with(tmp_path, "one", "dump"), host="h", tags=["caredesk", "cd-x"])

    assert stored.new_bytes and stored.new_bytes > 0
    assert repo.find("cd-x") == stored.snapshot
    with repo.dump(stored.snapshot.id, f"{stored.snapshot.paths[0]}/database.sql") as stream:
        assert stream.read() == b"dump"


def test_a_wrong_password_is_named(restic_repo):
    repo = restic.Repository(str(restic_repo), "not-the-password", lock_wait=0)
    with pytest.raises(restic.ResticError, match="does not open with CAREDESK_RESTIC_PASSWORD"):
        repo.ensure()


def test_a_missing_program_names_the_debian_package(restic_repo):
    repo = restic.Repository(str(restic_repo), RESTIC_PASSWORD, binary="/nowhere/restic")
    with pytest.raises(restic.ResticMissing, match="install the Debian package restic"):
        repo.snapshots()


def test_no_password_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(restic.ResticError, match="CAREDESK_RESTIC_PASSWORD is not set"):
        restic.Repository(str(tmp_path / "repo"), "")


def test_reading_a_file_the_snapshot_lacks_fails_clearly(restic_repo, tmp_path):
    repo = restic.Repository(str(restic_repo), RESTIC_PASSWORD)
    stored = repo.backup(folder_with(tmp_path, "one", "dump"), host="h", tags=["cd-y"])
    refused = pytest.raises(restic.ResticError, match="could not read /nowhere back")
    with refused, repo.dump(stored.snapshot.id, "/nowhere") as stream:
        stream.read()


def test_a_repository_locked_too_long_gives_up_with_a_reason(restic_repo, tmp_path):
    env = {"RESTIC_REPOSITORY": str(restic_repo), "RESTIC_PASSWORD": RESTIC_PASSWORD}

    holder = subprocess.Popen(
        ["restic", "backup", "--stdin", "--stdin-filename", "slow.sql", "--host", "other"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    try:
        repo = restic.Repository(str(restic_repo), RESTIC_PASSWORD, lock_wait=1)
        for _ in range(50):  # until the backup holds its lock
            if list((restic_repo / "locks").iterdir()):
                break
            time.sleep(0.1)
        with pytest.raises(restic.RepositoryLocked, match="stayed locked"):
            repo.forget(host="h", keep_last=1, keep_monthly=0)
    finally:
        holder.communicate(b"done", timeout=30)


def test_forget_applies_per_host_and_says_what_remains(restic_repo, tmp_path):
    repo = restic.Repository(str(restic_repo), RESTIC_PASSWORD)
    mine = [
        repo.backup(folder_with(tmp_path, f"m{n}", f"dump {n}"), host="mine", tags=["t"])
        for n in range(3)
    ]
    theirs = repo.backup(folder_with(tmp_path, "o", "other"), host="theirs", tags=["t"])

    kept = repo.forget(host="mine", keep_last=1, keep_monthly=0)

    assert kept == {mine[-1].snapshot.id}
    assert {s.id for s in repo.snapshots()} == {mine[-1].snapshot.id, theirs.snapshot.id}
