"""Compiled stacked LSTM/GRU layers: built once on request, used when present.

:mod:`tsrnn.nn.stacked_cells` drives ~15 small torch operations a time step from
Python; on a CPU those dispatches and the separate passes over each step's gates cost
more than the step's matrix product. ``fused_cells.cpp`` runs the same algorithm with
each step's elementwise work fused into one loop. It is compiled against the installed
torch by :func:`build` (``tsrnn build-kernels``; needs a C++ compiler, about 40 s) into
a per-user cache, and loaded from there by :func:`available`; nothing is compiled
implicitly, and without a build the Python cells run with the same results (to
rounding; ``tests/nn/test_fused.py``). ``TSRNN_FUSED=0`` turns a build off.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
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
# -ffast-math lets the compiler vectorise exp (glibc's libmvec); the results stay within
# rounding of the Python cells (tests/nn/test_fused.py)
_FLAGS = ["-O3", "-ffast-math", "-fopenmp-simd", "-std=c++20", "-fPIC", "-shared"]
_TIMEOUT_S = 600  # a compiler that hangs must not hang the caller
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


def _compiler() -> str:
    found = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not found:
        raise KernelBuildError(
            "building the fused kernels needs a C++ compiler (c++ or g++ on PATH, or CXX); "
            "install one (for example `apt install g++`), or keep the Python cells"
        )
    return found


def build(verbose: bool = False) -> Path:
    """Compile the fused layers for this torch and CPU (once; later calls reuse it).

    Parameters
    ----------
    verbose : bool, default False
        Print the compiler command.

    Returns
    -------
    pathlib.Path
        The shared library, loaded into this process.

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
    _loaded = None
    if not available():
        raise KernelBuildError(f"built {target} but could not load it")
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
        handle, partial = tempfile.mkstemp(suffix=".so", dir=target.parent)
    except OSError as error:
        raise KernelBuildError(
            f"cannot write the kernels under {target.parent} ({error}); set TSRNN_CACHE_DIR "
            "to a writable folder"
        ) from None
    os.close(handle)
    command = [compiler, str(SOURCE), "-o", partial, *_FLAGS, *_isa_flags()]
    command += [f"-D_GLIBCXX_USE_CXX11_ABI={abi}", *includes, *libraries]
    command += ["-lc10", "-ltorch_cpu", "-ltorch"]
    if verbose:
        print(" ".join(command), file=sys.stderr)
    try:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise KernelBuildError(
                f"compiling {SOURCE.name} took over {_TIMEOUT_S} s; stopped"
            ) from None
        if done.returncode:
            raise KernelBuildError(
                f"compiling {SOURCE.name} failed (exit {done.returncode}):\n" + done.stderr[-4000:]
            )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def _registered() -> bool:
    """Whether this process has loaded the library already (a build, or a test)."""
    return hasattr(getattr(torch.ops, _LIBRARY_NAME), "lstm_forward")


def available() -> bool:
    """Whether the fused layers are built and loaded (loads a build on first call)."""
    global _loaded
    if _loaded is None:
        _loaded = False
        if os.environ.get("TSRNN_FUSED", "1") == "0":
            return False
        if _registered():
            _loaded = True
            return True
        path = library_path()
        if path.exists():
            try:
                torch.ops.load_library(str(path))
                _loaded = True
            except (OSError, RuntimeError) as error:
                warnings.warn(
                    f"could not load the fused kernels at {path} ({error}); using the "
                    "Python cells. Rebuild with `tsrnn build-kernels`.",
                    RuntimeWarning,
                    stacklevel=2,
                )
    return _loaded
