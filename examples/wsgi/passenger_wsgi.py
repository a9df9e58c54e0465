# A WSGI example: standard library only. Run it with
#   ../../bin/passenger start        (in this folder; passenger_wsgi.py makes it a WSGI app)
# Passenger loads this file and serves its `application`; each Python process serves one
# request at a time, and Passenger starts more as needed.
import json
import os
import sys
import time
from datetime import datetime, timezone

STARTED_AT = datetime.now(timezone.utc)
requests = 0


def page(count):
    return f'''<!DOCTYPE html>
<html>
<head><title>Hello from WSGI on Passenger</title></head>
<body>
  <h1>Hello from WSGI on Passenger</h1>
  <p>Process <strong>{os.getpid()}</strong>, request {count} in this process,
     Python {sys.version.split()[0]}, up since {STARTED_AT.isoformat()}.</p>
  <ul>
    <li><a href="/env">/env</a>: the WSGI environ of this request (JSON)</li>
    <li><a href="/stream">/stream</a>: streams a line per second for five seconds</li>
    <li><form method="post" action="/echo"><input name="text" value="hello"> <button>POST /echo</button></form></li>
  </ul>
</body>
</html>
'''


def ticker():
    for i in range(5):
        if i:
            time.sleep(1)
        yield f'tick {i + 1} of 5 from process {os.getpid()}\n'.encode()


def application(environ, start_response):
    global requests
    requests += 1
    path = environ['PATH_INFO']
    if path == '/':
        body = page(requests).encode()
        start_response('200 OK', [('Content-Type', 'text/html; charset=utf-8'),
                                  ('Content-Length', str(len(body)))])
        return [body]
    if path == '/env':
        visible = {key: value for key, value in environ.items() if isinstance(value, str)}
        start_response('200 OK', [('Content-Type', 'application/json')])
        return [json.dumps(visible, indent=2).encode()]
    if path == '/stream':
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return ticker()
    if path == '/echo':
        length = int(environ.get('CONTENT_LENGTH') or 0)
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [environ['wsgi.input'].read(length)]
    start_response('404 Not Found', [('Content-Type', 'text/plain')])
    return [b'Not found\n']
