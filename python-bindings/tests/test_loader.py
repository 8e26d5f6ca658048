"""The library loader, each case in a fresh interpreter (a subprocess) so the
swiftmlp module loaded by the other tests is not disturbed."""

import ctypes.util
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import swiftmlp

BINDINGS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_DIR = os.path.join(BINDINGS_DIR, "swiftmlp")


def run_python(code: str, path_entry: str, env_update: dict, remove=("SWIFTMLP_LIBRARY",)):
    env = {k: v for k, v in os.environ.items() if k not in remove}
    env.update(env_update)
    env["PYTHONPATH"] = path_entry
    # `python -c` puts the working directory first on sys.path: run from the
    # entry's parent, so that pytest started inside python-bindings/ does not
    # import the package from there instead of from path_entry.
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          cwd=os.path.dirname(os.path.abspath(path_entry)),
                          capture_output=True, text=True, timeout=120)


IMPORT_AND_PRINT_ERROR = """
    try:
        import swiftmlp
    except ImportError as exc:
        print("IMPORT-ERROR")
        print(exc)
    else:
        print("LOADED", swiftmlp.library_path)
"""


def test_nonexistent_explicit_path_lists_it_and_does_not_fall_back(tmp_path):
    missing = str(tmp_path / "no" / "such" / "libswiftmlp.so")
    proc = run_python(IMPORT_AND_PRINT_ERROR, BINDINGS_DIR, {"SWIFTMLP_LIBRARY": missing})
    assert proc.returncode == 0, proc.stderr
    assert "IMPORT-ERROR" in proc.stdout
    assert missing in proc.stdout
    assert "no such file" in proc.stdout
    assert "SWIFTMLP_LIBRARY" in proc.stdout


@pytest.mark.parametrize("layout", ["installed", "checkout"])
def test_every_tried_path_is_listed_when_nothing_is_found(tmp_path, layout):
    # A copy of the package without a library in it, either installed (its
    # own copy of the header, as a wheel carries it) or in a checkout (a
    # Package.swift and include/swiftmlp.h above it, no build trees): every
    # candidate fails, and the build trees are searched in a checkout only.
    repo_root = tmp_path / "elsewhere"
    copy_root = repo_root / "python-bindings"
    _package_copy(copy_root, with_header=layout == "installed")
    if layout == "checkout":
        (repo_root / "include").mkdir()
        shutil.copy(HEADER, repo_root / "include" / "swiftmlp.h")
        (repo_root / "Package.swift").write_text("// a checkout\n")
    proc = run_python(IMPORT_AND_PRINT_ERROR, str(copy_root), {"LD_LIBRARY_PATH": ""})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "IMPORT-ERROR" in out, out
    build_trees = [os.path.join(str(repo_root), ".build", "release", "libswiftmlp.so"),
                   os.path.join(str(repo_root), "build", "lib", "libswiftmlp.so")]
    expected = [os.path.join(str(copy_root / "swiftmlp"), "libswiftmlp.so*"),
                *(build_trees if layout == "checkout" else []),
                swiftmlp._lib._SONAME]
    positions = [out.find(p) for p in expected]
    assert all(p >= 0 for p in positions), (expected, out)
    assert positions == sorted(positions), "paths are listed in search order"
    if layout == "installed":
        assert not any(p in out for p in build_trees), out
    assert "swift build -c release" in out and "scripts/wheel.sh" in out


def test_explicit_path_to_the_real_library_is_used(tmp_path):
    proc = run_python(IMPORT_AND_PRINT_ERROR, BINDINGS_DIR,
                      {"SWIFTMLP_LIBRARY": swiftmlp.library_path})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"LOADED {swiftmlp.library_path}"


HEADER = os.path.join(os.path.dirname(BINDINGS_DIR), "include", "swiftmlp.h")


def _package_copy(root, with_header=True):
    """The package copied to root/swiftmlp without its library, with the
    header copy an installed package carries (or without)."""
    shutil.copytree(PACKAGE_DIR, root / "swiftmlp",
                    ignore=shutil.ignore_patterns("__pycache__", "libswiftmlp.so*", "swiftmlp.h"))
    if with_header:
        shutil.copy(HEADER, root / "swiftmlp" / "swiftmlp.h")


def test_library_in_package_directory_is_found(tmp_path):
    copy_root = tmp_path / "pkg"
    _package_copy(copy_root)
    target = copy_root / "swiftmlp" / "libswiftmlp.so"
    shutil.copy(os.path.realpath(swiftmlp.library_path), target)
    proc = run_python(IMPORT_AND_PRINT_ERROR, str(copy_root), {})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"LOADED {target}"


def test_a_file_that_is_not_a_library_is_reported(tmp_path):
    bogus = tmp_path / "libswiftmlp.so"
    bogus.write_text("not an ELF file")
    proc = run_python(IMPORT_AND_PRINT_ERROR, BINDINGS_DIR, {"SWIFTMLP_LIBRARY": str(bogus)})
    assert "IMPORT-ERROR" in proc.stdout
    assert str(bogus) in proc.stdout and "cannot be loaded" in proc.stdout


def _fake_library(tmp_path, name, version_number, version_text, symbols):
    src = tmp_path / f"{name}.c"
    src.write_text(
        f"unsigned swiftmlp_version_number(void) {{ return {version_number}; }}\n"
        f'const char *swiftmlp_version_string(void) {{ return "{version_text}"; }}\n'
        'const char *swiftmlp_status_string(int s) { return "x"; }\n'
        'const char *swiftmlp_last_error(void) { return ""; }\n'
        + "".join(f"int {n}(void) {{ return 0; }}\n" for n in symbols))
    lib = tmp_path / f"lib{name}.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return lib


INFO = {"swiftmlp_version_number", "swiftmlp_version_string", "swiftmlp_status_string",
        "swiftmlp_last_error"}


@pytest.mark.parametrize("number,text", [(100, "0.1.0"), (200, "0.2.0"), (10200, "1.2.0")])
def test_version_mismatch_is_a_clear_error(tmp_path, number, text):
    # A fake library with every symbol of the header, reporting another version.
    from swiftmlp import _lib
    lib = _fake_library(tmp_path, "fake", number, text, sorted(set(_lib._SIGNATURES) - INFO))
    proc = run_python(IMPORT_AND_PRINT_ERROR, BINDINGS_DIR, {"SWIFTMLP_LIBRARY": str(lib)})
    assert "IMPORT-ERROR" in proc.stdout
    assert "version mismatch" in proc.stdout
    assert text in proc.stdout and swiftmlp._lib._version_text(swiftmlp.EXPECTED_VERSION_NUMBER) in proc.stdout


def test_old_library_without_the_new_symbols_is_a_version_mismatch(tmp_path):
    # A 0.1 library lacks the 0.2 functions: reported as the version mismatch
    # it is, not as a missing symbol.
    old = ["swiftmlp_create", "swiftmlp_free", "swiftmlp_forward", "swiftmlp_backward",
           "swiftmlp_step"]
    lib = _fake_library(tmp_path, "old", 100, "0.1.0", old)
    proc = run_python(IMPORT_AND_PRINT_ERROR, BINDINGS_DIR, {"SWIFTMLP_LIBRARY": str(lib)})
    assert "IMPORT-ERROR" in proc.stdout
    assert "version mismatch" in proc.stdout and "missing symbol" not in proc.stdout
    assert "0.1.0" in proc.stdout and swiftmlp._lib._version_text(swiftmlp.EXPECTED_VERSION_NUMBER) in proc.stdout


# The version these bindings expect, and a later patch release of it.
EXPECTED = swiftmlp.EXPECTED_VERSION_NUMBER
EXPECTED_TEXT = f"{EXPECTED // 10000}.{EXPECTED // 100 % 100}.{EXPECTED % 100}"
PATCH = EXPECTED // 100 * 100 + 7
PATCH_TEXT = f"{PATCH // 10000}.{PATCH // 100 % 100}.{PATCH % 100}"


def test_patch_release_is_accepted_if_complete(tmp_path):
    # MAJOR.MINOR.7 with every symbol: accepted (0.x: major.minor must match).
    from swiftmlp import _lib
    assert PATCH != EXPECTED and PATCH // 100 == EXPECTED // 100
    lib = _fake_library(tmp_path, "patch", PATCH, PATCH_TEXT,
                        sorted(set(_lib._SIGNATURES) - INFO))
    proc = run_python(IMPORT_AND_PRINT_ERROR, BINDINGS_DIR, {"SWIFTMLP_LIBRARY": str(lib)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"LOADED {lib}"


def test_library_missing_a_symbol_is_reported(tmp_path):
    # The right version, but nothing else: reported as a missing symbol.
    src = tmp_path / "partial.c"
    src.write_text(f"unsigned swiftmlp_version_number(void) {{ return {EXPECTED}; }}\n")
    lib = tmp_path / "libpartial.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    proc = run_python(IMPORT_AND_PRINT_ERROR, BINDINGS_DIR, {"SWIFTMLP_LIBRARY": str(lib)})
    assert "IMPORT-ERROR" in proc.stdout
    assert "missing symbol" in proc.stdout and "version mismatch" not in proc.stdout


@pytest.mark.parametrize("missing", ["swiftmlp_train_step", "swiftmlp_save_file",
                                     "swiftmlp_load_buffer", "swiftmlp_blas_info",
                                     "swiftmlp_set_num_threads"])
def test_library_of_the_right_version_missing_a_new_function_is_reported(tmp_path, missing):
    # A build of this version without one of the newer functions: the
    # import fails naming that symbol, not later at the first call.
    from swiftmlp import _lib
    lib = _fake_library(tmp_path, "nosym", EXPECTED, EXPECTED_TEXT,
                        sorted(set(_lib._SIGNATURES) - INFO - {missing}))
    proc = run_python(IMPORT_AND_PRINT_ERROR, BINDINGS_DIR, {"SWIFTMLP_LIBRARY": str(lib)})
    assert "IMPORT-ERROR" in proc.stdout
    assert "missing symbol" in proc.stdout and missing in proc.stdout
