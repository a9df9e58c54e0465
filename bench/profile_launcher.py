#!/usr/bin/env python3
"""bench/profile.sh's stand-in for the watchdog: binds 127.0.0.1:PORT, then runs COMMAND (valgrind
... passenger core) with the listening socket on fd 3, a ready pipe on fd 4 and the environment
contract of src/cli/README.md, and waits for it. SIGTERM is passed on. With --tls CERT KEY (a
core started with --ssl), it also hands the core its certificate and key as the watchdog does:
a sealed memfd over the TLS channel on fd 6 (src/tls/credentials_channel.hpp).

    profile_launcher.py [--tls CERT KEY] PORT OPTIONS_JSON_FILE COMMAND...
"""
import fcntl
import os
import signal
import socket
import subprocess
import sys

args = sys.argv[1:]
tls = None
if args[0] == "--tls":
    tls, args = (args[1], args[2]), args[3:]
port, options_file, command = int(args[0]), args[1], args[2:]
with open(options_file) as f:
    options = f.read().strip()

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(1024)
ready_reader, ready_writer = os.pipe()

env = dict(os.environ)
env.update(
    PASSENGER_CORE_OPTIONS=options,
    PASSENGER_LISTEN_FD="3",
    PASSENGER_READY_FD="4",
    PASSENGER_WATCHDOG_PID=str(os.getpid()),
)


tls_ours = tls_core = None
if tls:
    # "<certificate length>\n<certificate PEM><key PEM>" in a sealed memfd, tag byte "c".
    with open(tls[0], "rb") as f:
        certificate = f.read()
    with open(tls[1], "rb") as f:
        key = f.read()
    memory = os.memfd_create("passenger-tls", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.write(memory, b"%d\n" % len(certificate) + certificate + key)
    fcntl.fcntl(memory, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
    tls_ours, tls_core = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    socket.send_fds(tls_ours, [b"c"], [memory])
    os.close(memory)


def child_fds():
    os.dup2(listener.fileno(), 3)
    os.dup2(ready_writer, 4)
    if tls_core:
        os.dup2(tls_core.fileno(), 6)


child = subprocess.Popen(command, env=env, preexec_fn=child_fds, pass_fds=(3, 4, 6) if tls else (3, 4))
os.close(ready_writer)
signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
signal.signal(signal.SIGINT, lambda *_: child.send_signal(signal.SIGTERM))
print("ready:", os.read(ready_reader, 16), flush=True)
sys.exit(child.wait())
