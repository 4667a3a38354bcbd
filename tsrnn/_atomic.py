"""Writing files atomically: a temporary file in the same folder, flushed, then renamed.

Re-exported by :mod:`tsrnn.io`, where it always lived.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from tsrnn.exceptions import InputError

__all__ = ["atomic_write"]


def _mode_for(path: Path) -> int:
    """File permissions for a new file at ``path``: the existing file's, else 0666 & ~umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


_TMP_SUFFIX = ".tsrnn-tmp"


def _remove_stale_temporaries(folder: Path, target: str) -> None:
    """Delete temporary files of earlier writes of ``target`` whose process has died
    (killed mid-write: a ``kill -9`` or the OOM killer leaves them behind)."""
    for tmp in folder.glob(f".{glob_escape(target)}.*{_TMP_SUFFIX}"):
        parts = tmp.name[len(target) + 2 :].split(".")
        if not parts[0].isdigit() or _process_alive(int(parts[0])):
            continue
        tmp.unlink(missing_ok=True)


def glob_escape(text: str) -> str:
    """Escape glob metacharacters in a file name."""
    return re.sub(r"([\[\]*?])", r"[\1]", text)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or we cannot tell): keep its file
    return True


def _destination(path: Path) -> Path:
    """The file to replace: a symlink's target (the link is kept), never a directory."""
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give a file name to write to.")
    return path


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write a file through a temporary file in the same folder, then rename it into place.

    A crash or an error in ``write`` never leaves a half-written file at ``path`` and
    never touches an existing file there. The temporary file is named
    ``.NAME.PID.XXXX.tsrnn-tmp``; one left behind by a killed process is removed by the
    next write of the same file. The data is flushed to disk before the rename; an
    output path that is a symlink has the file it points to replaced.

    Parameters
    ----------
    path : str or path-like
        Destination.
    write : callable
        Called with the temporary file's path; must write the whole content.

    Raises
    ------
    InputError
        If ``path`` is a directory, or no file can be created in the destination folder
        (missing or not writable).
    """
    path = _destination(Path(path))
    folder = path.parent if str(path.parent) else Path(".")
    try:
        _remove_stale_temporaries(folder, path.name)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=_TMP_SUFFIX, dir=folder
        )
    except OSError as exc:
        raise InputError(
            f"{path}: cannot write the file ({exc.strerror}). "
            f"Check that the folder {folder} exists and is writable."
        ) from exc
    os.close(fd)
    try:
        write(tmp)
        # mkstemp creates the file private (0600); give it the mode a plain open() would
        # (the existing file's, else 0666 less the umask).
        os.chmod(tmp, _mode_for(path))
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync(file: str) -> None:
    with open(file, "rb") as handle:
        os.fsync(handle.fileno())
