#!/usr/bin/env python3
"""bench/profile.sh's allocation count: the calls to malloc (through operator new, realloc, calloc
or directly) that callgrind recorded, per request, and the functions that made the most of them.

    callgrind_allocs.py CALLGRIND_OUT REQUESTS [TOP]
"""
import collections
import re
import sys

path, requests = sys.argv[1], int(sys.argv[2])
top = int(sys.argv[3]) if len(sys.argv) > 3 else 12
names = {}  # callgrind compresses names: "(id) name" the first time, "(id)" after
mallocs = 0
callers = collections.Counter()
function = callee = None
for line in open(path, errors="replace"):
    match = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
    if match:
        kind, ident, name = match.groups()
        if name:
            names[ident] = name
        if kind == "fn":
            function = names.get(ident)
        else:
            callee = names.get(ident)
        continue
    match = re.match(r"^calls=(\d+)", line)
    if match and callee is not None:
        count = int(match.group(1))
        if callee == "malloc":
            mallocs += count
        # Attributed to whoever asked: operator new's caller rather than operator new.
        if callee in ("operator new(unsigned long)", "realloc", "calloc") or (
            callee == "malloc" and not function.startswith("operator new")
        ):
            callers[function] += count
        callee = None
print(f"allocations: {mallocs} over {requests} requests = {mallocs / requests:.2f} per request")
for name, count in callers.most_common(top):
    print(f"{count / requests:8.2f}  {name[:160]}")
