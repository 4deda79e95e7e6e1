"""The records of a ``torch.save`` zip archive, checked against the CRC-32 each was written with;
the SHA-256 of a file's bytes (a checkpoint's, an inputs file's), recorded with its report; and
the restricted unpickler's own reason for refusing a file (:func:`unpickler_reason`).

``torch.load`` does not check them: a checkpoint (or inputs file) damaged inside a tensor's bytes
loads, and :mod:`vanishlab.trained.torch_file` refuses it by the record this names.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

from ..errors import VanishlabError

__all__ = [
    "bad_crc_record",
    "check_records",
    "cut_short",
    "file_state",
    "is_torchscript",
    "legacy_tar",
    "sha256_as_read",
    "sha256_file",
    "starts_as_zip",
    "unpickler_reason",
]

#: The first bytes of a zip archive (a local file header's signature), torch.save's included.
_ZIP_START = b"PK\x03\x04"


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_state(path: str | os.PathLike[str]) -> tuple[int, ...] | None:
    """Which file ``path`` is, and as written when: its device, inode, size and time of last
    change, None where it cannot be looked at (the reader says why)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def sha256_as_read(path: str | os.PathLike[str], before: tuple[int, ...] | None, what: str) -> str:
    """The SHA-256 of ``path``'s bytes, where the file is still the one :func:`file_state`
    gave ``before`` it was loaded; else VanishlabError. A file written, replaced or removed
    between its load and its digest had the digest of other bytes than those measured
    recorded with them (or, removed, a FileNotFoundError from the Python API)."""
    try:
        digest = sha256_file(path)
    except OSError:
        digest = None
    if digest is None or before is None or file_state(path) != before:
        raise VanishlabError(
            f"{what} {path} changed while it was read (written, replaced or removed "
            "meanwhile): run the command again once it is complete"
        )
    return digest


def check_records(path: Path, what: str) -> None:
    """Refuse (VanishlabError) the zip archive at ``path`` that :func:`bad_crc_record` finds
    damaged; ``what`` names the file (``checkpoint``, ``inputs file``)."""
    damaged = bad_crc_record(path)
    if damaged is not None:
        record, why = damaged
        raise VanishlabError(
            f"{what} {path} is not readable as a torch.save file (a zip archive that is damaged: "
            f"its record {record} {why})"
        )


def bad_crc_record(path: Path) -> tuple[str, str] | None:
    """The first record of a zip checkpoint that is damaged, and how, or None: its bytes fail
    their CRC-32 ("fails its CRC-32 check"), or its local header does not match the archive's
    directory ("has a damaged header": zipfile reads the record by that header).

    torch.load does not check the CRCs that torch.save writes: a checkpoint damaged inside a
    tensor's bytes (a flipped bit on disk or in a copy) loaded, and its corrupted weights were
    measured as the model's. A record whose CRC is 0 is not checked (torch.save writes 0 with
    ``torch.utils.serialization.config.save.compute_crc32 = False``; an empty record's is 0).
    """
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.CRC == 0:
                    continue
                try:
                    record = archive.open(info)
                except zipfile.BadZipFile:  # its local header: another name, no signature
                    return info.filename, "has a damaged header"
                try:
                    with record:  # checks the CRC at the end
                        while record.read(1 << 20):
                            pass
                except zipfile.BadZipFile:
                    return info.filename, "fails its CRC-32 check"
    except (OSError, zipfile.BadZipFile, NotImplementedError, RuntimeError):
        return None  # what torch read, zipfile cannot: torch's reading stands
    return None


def starts_as_zip(path: Path) -> bool:
    """Whether ``path``'s first bytes are a zip archive's (torch.save's format since torch 1.6),
    whole or not; False where it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(len(_ZIP_START)) == _ZIP_START
    except OSError:
        return False


def cut_short(path: Path) -> str | None:
    """Why ``path`` is no whole torch.save file when it begins as a zip archive (torch.save's)
    but has no end: no end of central directory record, which a zip archive's last bytes hold
    (a copy or a download stopped early, ``head -c 1000 good.pt``); None otherwise. torch.load
    said of one "[Errno 22] Invalid argument", "failed finding central directory" or another
    error of its reader, by the length left."""
    if not starts_as_zip(path) or zipfile.is_zipfile(path):
        return None
    return "it is cut short: a zip archive's start without its end, not a complete one"


#: The size of a tar archive's block: a first block of zero bytes is an empty tar to tarfile.
_TAR_BLOCK = 512


def legacy_tar(path: Path) -> str:
    """Why ``path`` is not read where torch.load calls it a file "saved in the legacy .tar
    format": tarfile opens any file whose first 512 bytes are zeros as an empty tar archive
    (a file made to its size and never written: ``truncate``, ``fallocate``, a disk's hole),
    and a tar archive (torch.save's oldest format, or another) needs weights_only=False.

    torch's own words ended in its advice to re-run torch.load with weights_only=False, which
    "will likely succeed": wrong for a file of zeros, and code run for a file sent to a user.
    Only the first block is read, whatever the file's size."""
    try:
        with open(path, "rb") as f:
            start = f.read(_TAR_BLOCK)
    except OSError:
        start = b""
    if start and not start.strip(b"\0"):
        return "it begins with zero bytes only: a file made to its size and never written"
    return (
        "a tar archive: torch.save's oldest format, or another tar file; vanishlab reads "
        "neither, since torch.load reads one only with weights_only=False, which runs any "
        "code in it"
    )


def is_torchscript(path: Path) -> bool:
    """Whether ``path`` is a TorchScript archive (``torch.jit.save``), by torch's own test: a
    record ``constants.pkl`` at the top of the archive's folder.

    torch.load before 2.6 hands such a file to ``torch.jit.load``, which compiles its code,
    even with weights_only=True (the route of CVE-2025-32434); torch 2.6 and later refuse it.
    """
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.partition("/")[2] == "constants.pkl" for name in archive.namelist())
    except (OSError, zipfile.BadZipFile, NotImplementedError, RuntimeError):
        return False  # torch.load reads it, or says why not


#: torch's own framing of a refusal, around the unpickler's reason: its advice to load with
#: weights_only=False (which runs the file's code) and a link to its documentation.
_TORCH_FRAMING = ("In PyTorch 2.6,", "Check the documentation of torch.load")


def unpickler_reason(err: BaseException) -> str:
    """The restricted unpickler's own reason (``Unsupported global: GLOBAL os.system ...``).

    A global of a module torch always blocks (``os``, ``posix``, ``nt``, ``sys``: the usual
    payload) comes without the ``WeightsUnpickler error:`` marker, after torch's advice to load
    with weights_only=False; that advice is no reason, and was taken for one."""
    text = str(err)
    _, found, rest = text.partition("WeightsUnpickler error:")
    lines = [ln.strip() for ln in (rest if found else text).splitlines() if ln.strip()]
    lines = [ln.removeprefix("Weights only load failed.").strip() for ln in lines]
    lines = [ln for ln in lines if ln and not ln.startswith(_TORCH_FRAMING)]
    return lines[0].split(". Please use")[0] if lines else type(err).__name__
