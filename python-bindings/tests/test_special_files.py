"""swiftmlp.load never blocks and reads nothing but a regular file (issue 15):
a FIFO (with or without a writer), a character device, a directory, a
socket, a symbolic link loop or a /proc file raises SwiftMLPIOError at once,
saying what the path is.  (A FIFO without a writer used to block forever:
the file was opened before its type was checked.)  An alarm turns a hang
into a failure instead of a stuck test run."""

import os
import signal
import socket
import time

import pytest

import swiftmlp
from swiftmlp import SwiftMLPIOError


class Hang(Exception):
    pass


def refused(path, what):
    def on_alarm(signum, frame):
        raise Hang(f"swiftmlp.load({path!r}) blocked")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(10)
    t0 = time.perf_counter()
    try:
        with pytest.raises(SwiftMLPIOError) as info:
            swiftmlp.load(path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert time.perf_counter() - t0 < 2
    reason = str(info.value).rsplit('"', 1)[-1]  # after the quoted path
    assert what in reason, str(info.value)
    assert info.value.filename == os.fspath(path)


def test_fifo_without_writer(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    refused(path, "FIFO")


def test_fifo_with_writer_is_not_read(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    try:
        os.write(fd, b"not a model")
        refused(path, "FIFO")
        assert os.read(fd, 100) == b"not a model"  # nothing was consumed
    finally:
        os.close(fd)


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_character_device(path):
    refused(path, "character device")


def test_directory(tmp_path):
    refused(tmp_path, "directory")


def test_socket(tmp_path):
    path = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(os.fspath(path))
        s.listen(1)
        refused(path, "socket")
    finally:
        s.close()


def test_symlink_loop(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    os.symlink(b, a)
    os.symlink(a, b)
    refused(a, "symbolic link")


@pytest.mark.parametrize("path", ["/proc/self/status", "/proc/self/maps"])
def test_proc_file(path):
    refused(path, "longer than")


def test_regular_file_through_a_symlink_loads(tmp_path):
    net = swiftmlp.MLP((3, 4, 2), seed=3)
    net.save(tmp_path / "m.safetensors")
    os.symlink(tmp_path / "m.safetensors", tmp_path / "link")
    back = swiftmlp.load(tmp_path / "link")
    assert (back.get_flat_params() == net.get_flat_params()).all()
