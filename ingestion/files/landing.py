"""Reading a dropped file safely: never through a symlink, never outside the landing folder."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ingestion.files.errors import FileRejected, FileVanished
from ingestion.files.limits import ImportLimits, describe_bytes

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    # a FIFO in the landing folder must not block the open: it is rejected right after
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


@dataclass
class LandedFile:
    """The exact bytes of one file as read once from the landing folder, and which file
    (device, inode) they came from."""

    path: Path
    data: bytes
    sha256: str
    size: int
    identity: tuple[int, int]

    def release(self) -> None:
        """Drop the bytes once parsed: a 1 GiB file need not stay in memory while it is
        written to the lake."""
        self.data = b""

    def still_there(self) -> bool:
        """Whether the landing path still names the file that was read."""
        try:
            info = os.lstat(self.path)
        except OSError:
            return False
        return stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) == self.identity


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path``'s real folder is ``folder`` or below it (the name itself not followed)."""
    parent = os.path.realpath(path.parent)
    root = os.path.realpath(folder)
    return parent == root or parent.startswith(root.rstrip(os.sep) + os.sep)


def check_location(path: Path, landing: Path) -> os.stat_result:
    """``lstat`` of a landing file that may be read; raises if it must not be."""
    if not is_inside(path, landing):
        raise FileRejected("path is outside the landing folder")
    try:
        info = os.lstat(path)
    except FileNotFoundError as exc:
        raise FileVanished(str(path)) from exc
    if stat.S_ISLNK(info.st_mode):
        raise FileRejected("symbolic link; links in the landing folder are never followed")
    if not stat.S_ISREG(info.st_mode):
        raise FileRejected("not a regular file")
    return info


def read_landed_file(path: Path, landing: Path, limits: ImportLimits) -> LandedFile:
    """Read a landing file once, refusing links, special files and files over the size limit."""
    info = check_location(path, landing)
    if info.st_size > limits.max_file_bytes:
        raise FileRejected(
            f"file is {info.st_size} bytes; the limit is {describe_bytes(limits.max_file_bytes)}"
        )
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError as exc:
        raise FileVanished(str(path)) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileRejected(
                "symbolic link; links in the landing folder are never followed"
            ) from exc
        raise
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode) or opened.st_ino != info.st_ino:
            raise FileRejected("file was replaced while it was being opened")
        # one byte more than the limit tells a file that grew after the lstat above
        data = handle.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise FileRejected(f"file is larger than {describe_bytes(limits.max_file_bytes)}")
    digest = hashlib.sha256(data).hexdigest()
    return LandedFile(path, data, digest, len(data), (opened.st_dev, opened.st_ino))
