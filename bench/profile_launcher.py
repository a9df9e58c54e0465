#!/usr/bin/env python3
"""bench/profile.sh's stand-in for the watchdog: binds 127.0.0.1:PORT, then runs COMMAND (valgrind
... passenger core) with the listening socket on fd 3, a ready pipe on fd 4 and the environment
contract of src/cli/README.md, and waits for it. SIGTERM is passed on.

    profile_launcher.py PORT OPTIONS_JSON_FILE COMMAND...
"""
import os
import signal
import socket
import subprocess
import sys

port, options_file, command = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
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


def child_fds():
    os.dup2(listener.fileno(), 3)
    os.dup2(ready_writer, 4)


child = subprocess.Popen(command, env=env, preexec_fn=child_fds, pass_fds=(3, 4))
os.close(ready_writer)
signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
signal.signal(signal.SIGINT, lambda *_: child.send_signal(signal.SIGTERM))
print("ready:", os.read(ready_reader, 16), flush=True)
sys.exit(child.wait())
