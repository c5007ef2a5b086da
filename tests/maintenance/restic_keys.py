"""Test repositories that open fast: the key file re-encrypted with cheap scrypt settings.

restic tunes its key derivation to take about a second on the machine that
makes the repository, and pays it on every command: most of a backup test's
time. This rewrites a fresh repository's key file the way restic writes one
(scrypt → AES-256-CTR + Poly1305-AES over the master key), with N=1024. It
checks the old key's MAC first; if anything differs from what it expects it
leaves the repository alone (slower tests, same results).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.poly1305 import Poly1305


def _keys(password: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, bytes, bytes]:
    derived = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=512 * 1024 * 1024, dklen=64
    )
    return derived[:32], derived[32:48], derived[48:64]  # AES key, MAC's AES key, MAC's r


def _mac(mac_k: bytes, mac_r: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(mac_k), modes.ECB()).encryptor()  # noqa: S305 - one block, as restic does
    s = encryptor.update(nonce) + encryptor.finalize()
    return Poly1305.generate_tag(mac_r + s, ciphertext)


def _ctr(key: bytes, nonce: bytes, data: bytes) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()
    return cipher.update(data) + cipher.finalize()


def cheapen(repo: Path, password: str) -> bool:
    """Re-key ``repo`` with cheap scrypt settings; False (and nothing changed) if it can't."""
    try:
        [old] = list((repo / "keys").iterdir())
        key = json.loads(old.read_text())
        if key.get("kdf") != "scrypt":
            return False
        enc, mac_k, mac_r = _keys(
            password, base64.b64decode(key["salt"]), key["N"], key["r"], key["p"]
        )
        data = base64.b64decode(key["data"])
        nonce, ciphertext, tag = data[:16], data[16:-16], data[-16:]
        if _mac(mac_k, mac_r, nonce, ciphertext) != tag:
            return False  # not the format this expects
        master = _ctr(enc, nonce, ciphertext)
        json.loads(master)  # the master key is JSON; anything else means a misunderstanding
        salt, nonce = os.urandom(64), os.urandom(16)
        enc, mac_k, mac_r = _keys(password, salt, 1024, 8, 1)
        ciphertext = _ctr(enc, nonce, master)
        key.update(
            N=1024,
            r=8,
            p=1,
            salt=base64.b64encode(salt).decode(),
            data=base64.b64encode(
                nonce + ciphertext + _mac(mac_k, mac_r, nonce, ciphertext)
            ).decode(),
        )
        content = json.dumps(key).encode()
        (repo / "keys" / hashlib.sha256(content).hexdigest()).write_bytes(content)
        old.unlink()
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False
