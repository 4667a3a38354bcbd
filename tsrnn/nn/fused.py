"""Compiled stacked LSTM/GRU layers: built once on request, used when present.

:mod:`tsrnn.nn.stacked_cells` drives ~15 small torch operations a time step from
Python; on a CPU those dispatches and the separate passes over each step's gates cost
more than the step's matrix product. ``fused_cells.cpp`` runs the same algorithm with
each step's elementwise work fused into a few loops. It is compiled against the installed
torch by :func:`build` (``tsrnn build-kernels``; needs a C++ compiler, about 20 s) into
a per-user cache, and loaded from there by :func:`available`; nothing is compiled
implicitly, and without a build the Python cells run with the same results (to
rounding; ``tests/nn/test_fused.py``). ``TSRNN_FUSED=0`` turns a build off.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import torch

from tsrnn.exceptions import KernelBuildError

__all__ = ["available", "build", "library_path"]

SOURCE = Path(__file__).with_name("fused_cells.cpp")
_LIBRARY_NAME = "tsrnn_fused"
# Not -ffast-math: linked into a shared library it sets flush-to-zero for the whole
# process (numpy and statsmodels too), and its finite-math assumption turns NaN inputs
# into finite outputs. The gate loops vectorise without it (the float exp is inlined);
# -fno-math-errno lets the float64 exp (tests) vectorise too.
_FLAGS = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd", "-std=c++20"]
_FLAGS += ["-fPIC", "-shared"]
_TIMEOUT_S = 600  # a compiler that hangs must not hang the caller
_PARTIAL = ".partial-"  # prefix of a library being written
_loaded: bool | None = None


def _isa_flags() -> list[str]:
    """Instruction-set flags from torch's own view of this CPU (not ``-march=native``:
    a shared home directory may serve machines with other CPUs; the cache key has it)."""
    capability = torch.backends.cpu.get_cpu_capability()
    return ["-mavx2", "-mfma"] if capability in ("AVX2", "AVX512") else []


def library_path() -> Path:
    """Where the build for this torch, CPU capability and source lives."""
    key = hashlib.sha256()
    key.update(SOURCE.read_bytes())
    parts = (torch.__version__, platform.machine(), sys.platform, *_FLAGS, *_isa_flags())
    key.update(repr(parts).encode())
    root = os.environ.get("TSRNN_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    base = Path(root) if root else Path.home() / ".cache"
    if not os.environ.get("TSRNN_CACHE_DIR"):
        base = base / "tsrnn"
    return base / "kernels" / f"{_LIBRARY_NAME}-{key.hexdigest()[:16]}.so"


def _compiler() -> list[str]:
    """The compiler command: ``CXX`` (which may carry arguments, ``ccache g++``), else
    ``c++`` or ``g++`` from PATH."""
    if os.environ.get("CXX"):
        return shlex.split(os.environ["CXX"])
    found = shutil.which("c++") or shutil.which("g++")
    if not found:
        raise KernelBuildError(
            "building the fused kernels needs a C++ compiler (c++ or g++ on PATH, or CXX); "
            "install one (for example `apt install g++`), or keep the Python cells"
        )
    return [found]


def build(verbose: bool = False) -> Path:
    """Compile the fused layers for this torch and CPU (once; later calls reuse it).

    Parameters
    ----------
    verbose : bool, default False
        Print the compiler command.

    Returns
    -------
    pathlib.Path
        The shared library, loaded into this process (unless ``TSRNN_FUSED=0``).

    Raises
    ------
    tsrnn.exceptions.KernelBuildError
        Without a C++ compiler, when compiling fails (with the compiler's message) or
        takes over 10 minutes, or when the cache folder is not writable.
    """
    global _loaded
    target = library_path()
    if not target.exists():
        _compile(target, verbose)
    if os.environ.get("TSRNN_FUSED", "1") != "0":
        error = _load(target)
        if error is not None:
            raise KernelBuildError(f"built {target} but could not load it: {error}")
        _loaded = True
    return target


def _compile(target: Path, verbose: bool) -> None:
    from torch.utils import cpp_extension

    compiler = _compiler()
    abi = int(torch._C._GLIBCXX_USE_CXX11_ABI)
    includes = [f"-I{path}" for path in cpp_extension.include_paths()]
    libraries = [f"-L{path}" for path in cpp_extension.library_paths()]
    libraries += [f"-Wl,-rpath,{path}" for path in cpp_extension.library_paths()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # written beside the target and renamed: a failed or concurrent build never
        # leaves a half-written library where the loader looks
        handle, partial = tempfile.mkstemp(prefix=_PARTIAL, suffix=".so", dir=target.parent)
    except OSError as error:
        raise KernelBuildError(
            f"cannot write the kernels under {target.parent} ({error}); set TSRNN_CACHE_DIR "
            "to a writable folder"
        ) from None
    os.close(handle)
    command = [*compiler, str(SOURCE), "-o", partial, *_FLAGS, *_isa_flags()]
    command += [f"-D_GLIBCXX_USE_CXX11_ABI={abi}", *includes, *libraries]
    command += ["-lc10", "-ltorch_cpu", "-ltorch"]
    if verbose:
        print(shlex.join(command), file=sys.stderr)
    try:
        code, errors = _run(command)
        if code:
            raise KernelBuildError(
                f"compiling {SOURCE.name} failed (exit {code}):\n" + errors[-4000:]
            )
        # mkstemp made it private (0600); others sharing the cache must be able to load it
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o755 & ~umask)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def _run(command: list[str]) -> tuple[int, str]:
    """Run the compiler in its own process group (a timeout stops cc1plus too)."""
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except OSError as error:
        raise KernelBuildError(f"cannot run the compiler {command[0]!r}: {error}") from None
    try:
        _, errors = process.communicate(timeout=_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise KernelBuildError(
            f"compiling {SOURCE.name} took over {_TIMEOUT_S} s; stopped"
        ) from None
    return process.returncode, errors


def _load(path: Path) -> Exception | None:
    """Load the library at ``path`` into this process; the error if that fails."""
    if _registered():
        return None
    try:
        torch.ops.load_library(str(path))
    except (OSError, RuntimeError) as error:
        return error
    return None


def _registered() -> bool:
    """Whether this process has loaded the library already (a build, or a test)."""
    return hasattr(getattr(torch.ops, _LIBRARY_NAME), "lstm_forward")


def available() -> bool:
    """Whether the fused layers are built and loaded (loads a build on first call;
    ``TSRNN_FUSED=0`` at that call keeps them off)."""
    global _loaded
    if _loaded is None:
        _loaded = False
        if os.environ.get("TSRNN_FUSED", "1") == "0":
            return False
        path = library_path()
        if _registered() or path.exists():
            error = _load(path)
            _loaded = error is None
            if error is not None:
                warnings.warn(
                    f"could not load the fused kernels at {path} ({error}); using the "
                    "Python cells. Rebuild with `tsrnn build-kernels`.",
                    RuntimeWarning,
                    stacklevel=2,
                )
    return _loaded
