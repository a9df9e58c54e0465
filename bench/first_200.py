#!/usr/bin/env python3
"""bench/cold_start.sh's fair clock (POLLER=socket): runs COMMAND in its own session, tries
GET / on 127.0.0.1:PORT every millisecond from one process, prints the milliseconds from just
before the start to the first 200, then stops the command's process group.

curl in a shell loop (extended.sh's way) is biased: each refused attempt costs a curl start
plus `sleep 0.005`, while a server whose port is bound before its app is ready (ours: the
watchdog binds it at once) lets the first curl connect and wait. This poller costs the same for
both.

    first_200.py PORT COMMAND...
"""
import os
import signal
import socket
import subprocess
import sys
import time

port, command = int(sys.argv[1]), sys.argv[2:]
request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
started = time.monotonic()
child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
deadline = started + 60
answered = False
while time.monotonic() < deadline and child.poll() is None:
    with socket.socket() as probe:
        try:
            probe.connect(("127.0.0.1", port))
            probe.sendall(request)
            if probe.recv(64).startswith(b"HTTP/1.1 200"):
                answered = True
                break
        except OSError:
            pass
    time.sleep(0.001)
elapsed_ms = (time.monotonic() - started) * 1000
try:
    os.killpg(child.pid, signal.SIGTERM)
except ProcessLookupError:
    pass
child.wait()
if not answered:
    sys.exit("no 200 within 60 s (or the command exited)")
print(f"{elapsed_ms:.0f}")
