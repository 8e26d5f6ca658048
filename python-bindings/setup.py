"""Builds the swiftmlp wheel: the ctypes package plus libswiftmlp.so, built
here with SwiftPM and carried inside the package (as LightGBM's and
xgboost's wheels carry theirs), with its header and licences.

The native sources come from the checkout around this directory, or, in a
source distribution, from its native/ copy (made by `sdist` below). The
version is the header's (swiftmlp/_version.py reads it). The wheel is tagged
py3-none-<platform>: the library is native code, the Python is not tied to
one interpreter. scripts/wheel.sh turns the platform into a manylinux tag.
"""

import os
import runpy
import shutil
import subprocess

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
# What a build of the library needs (Package.swift names the test target too),
# and the licences that go with it.
NATIVE_FILES = ["Package.swift", "Sources", "Tests", "include", "LICENSE", "THIRD_PARTY_NOTICES.md"]


def native_root() -> str:
    """The directory holding Package.swift: an sdist's native/ or the checkout."""
    for root in (os.path.join(HERE, "native"), os.path.dirname(HERE)):
        if all(os.path.exists(os.path.join(root, f)) for f in NATIVE_FILES):
            return root
    raise SystemExit(
        f"swiftmlp: cannot build: the library's sources ({', '.join(NATIVE_FILES)}) are "
        f"neither in {os.path.join(HERE, 'native')} (a source distribution) nor in "
        f"{os.path.dirname(HERE)} (a checkout of the repository).")


def read_version() -> str:
    version = runpy.run_path(os.path.join(HERE, "swiftmlp", "_version.py"),
                             run_name="swiftmlp_version_for_setup")
    major, minor, patch = version["read_version"](
        os.path.join(native_root(), "include", "swiftmlp.h"))
    return f"{major}.{minor}.{patch}"


def build_library(root: str) -> str:
    """swift build -c release --product swiftmlp in root; the library's path."""
    swift = shutil.which("swift")
    if swift is None:
        raise SystemExit(
            "swiftmlp: building this package needs the Swift toolchain (`swift` on PATH, "
            "Swift 6.0 or newer) and Debian's libopenblas-dev, to compile libswiftmlp.so; "
            "install them, or install a prebuilt swiftmlp wheel instead.")
    # --manifest-cache none: Package.swift reads the SONAME from include/swiftmlp.h.
    cmd = [swift, "build", "-c", "release", "--product", "swiftmlp", "--manifest-cache", "none",
           "--package-path", root]
    print("swiftmlp: " + " ".join(cmd), flush=True)
    if subprocess.run(cmd).returncode != 0:
        raise SystemExit(f"swiftmlp: `{' '.join(cmd)}` failed (its output is above).")
    return os.path.join(root, ".build", "release", "libswiftmlp.so")


class BuildWithLibrary(build_py):
    """build_py, then the library (stripped, under its SONAME), the header
    (the package reads its version there) and the licences into the package."""

    def run(self):
        super().run()
        root = native_root()
        major = read_version().split(".")[0]
        dest = os.path.join(self.build_lib, "swiftmlp")
        os.makedirs(dest, exist_ok=True)
        library = os.path.join(dest, f"libswiftmlp.so.{major}")
        shutil.copyfile(build_library(root), library)
        os.chmod(library, 0o755)
        strip = shutil.which("strip")
        if strip is None:
            raise SystemExit("swiftmlp: `strip` (binutils) is needed to strip libswiftmlp.so.")
        subprocess.run([strip, "--strip-unneeded", library], check=True)
        shutil.copyfile(os.path.join(root, "include", "swiftmlp.h"), os.path.join(dest, "swiftmlp.h"))
        for name in ("LICENSE", "THIRD_PARTY_NOTICES.md"):
            shutil.copyfile(os.path.join(root, name), os.path.join(dest, name))


class NativeDistribution(Distribution):
    """Carries native code (the library), so it installs into platlib."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    """A wheel for one platform (it carries native code), any Python 3."""

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


class SdistWithNative(sdist):
    """The source distribution carries what building the library needs, in native/."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        root = native_root()
        for name in NATIVE_FILES:
            src, dst = os.path.join(root, name), os.path.join(base_dir, "native", name)
            if os.path.isdir(src):
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(src, dst)


setup(version=read_version(),
      distclass=NativeDistribution,
      cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel,
                "sdist": SdistWithNative})
