"""Building and loading the optional compiled cells (tsrnn.nn.fused).

Their numbers are checked against torch's layers by the cell tests, which run through
both implementations (the ``cell_path`` fixture of ``tests/nn/conftest.py``).
"""

from __future__ import annotations

import stat

import pytest

pytest.importorskip("torch")

from tsrnn.exceptions import KernelBuildError  # noqa: E402
from tsrnn.nn import fused  # noqa: E402


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cache directory and a loader that has not looked yet."""
    monkeypatch.setenv("TSRNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(fused, "_loaded", None)
    return tmp_path


def test_the_build_is_keyed_by_the_source(cache, tmp_path_factory, monkeypatch):
    first = fused.library_path()
    assert first.parent == cache / "kernels" and first.name.endswith(".so")
    edited = tmp_path_factory.mktemp("src") / "fused_cells.cpp"
    edited.write_text(fused.SOURCE.read_text() + "\n// edited\n")
    monkeypatch.setattr(fused, "SOURCE", edited)
    assert fused.library_path() != first  # an edited source is never served a stale build


def test_a_failing_compiler_leaves_nothing_behind(cache, tmp_path, monkeypatch):
    failing = tmp_path / "cxx"
    failing.write_text("#!/bin/sh\necho 'cc1plus: fatal error: out of memory' >&2\nexit 1\n")
    failing.chmod(failing.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("CXX", str(failing))
    with pytest.raises(KernelBuildError, match="(?s)failed .exit 1.*out of memory"):
        fused.build()
    assert list((cache / "kernels").iterdir()) == []  # no half-written library


@pytest.mark.parametrize("cxx", ["/nonexistent/g++", "ccache-that-is-not-there g++ -O0"])
def test_a_compiler_that_cannot_start(cache, monkeypatch, cxx):
    monkeypatch.setenv("CXX", cxx)
    with pytest.raises(KernelBuildError, match="cannot run the compiler"):
        fused.build()
    assert list((cache / "kernels").iterdir()) == []


def test_a_build_can_be_loaded_by_other_users(cell_path):
    if cell_path == "python":
        pytest.skip("needs the compiled cells")
    mode = fused.library_path().stat().st_mode
    assert mode & 0o055 == 0o055  # group and others may read and map it


def test_no_compiler_says_what_to_install(cache, monkeypatch):
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(fused.shutil, "which", lambda name: None)
    with pytest.raises(KernelBuildError, match="needs a C\\+\\+ compiler.*apt install g\\+\\+"):
        fused.build()
    assert not (cache / "kernels").exists() or not list((cache / "kernels").iterdir())


def test_an_unwritable_cache_says_where_to_build(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("TSRNN_CACHE_DIR", str(blocker / "below a file"))
    monkeypatch.setattr(fused, "_loaded", None)
    with pytest.raises(KernelBuildError, match="cannot write the kernels.*TSRNN_CACHE_DIR"):
        fused.build()


def test_nothing_is_compiled_implicitly(cache, monkeypatch):
    monkeypatch.setattr(fused, "_registered", lambda: False)
    assert fused.available() is False
    assert not fused.library_path().exists()


def test_a_broken_build_warns_and_falls_back(cache, monkeypatch):
    path = fused.library_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a shared library")
    # as in a fresh process: the library is not registered yet
    monkeypatch.setattr(fused, "_registered", lambda: False)
    with pytest.warns(RuntimeWarning, match="could not load the fused kernels.*build-kernels"):
        assert fused.available() is False


def test_switched_off_by_the_environment(cache, monkeypatch):
    monkeypatch.setenv("TSRNN_FUSED", "0")
    assert fused.available() is False


def test_the_command_reports_a_failed_build(cache, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tsrnn.cli import main

    failing = tmp_path / "cxx"
    failing.write_text("#!/bin/sh\necho 'no space left on device' >&2\nexit 4\n")
    failing.chmod(failing.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("CXX", str(failing))
    result = CliRunner().invoke(main, ["build-kernels"])
    assert result.exit_code == 1
    assert "error: compiling fused_cells.cpp failed (exit 4)" in result.stderr
    assert "no space left on device" in result.stderr
