# A generic app: any program that listens on 127.0.0.1:$PORT. This one uses only Python's
# standard library. Run it with
#   ../../bin/passenger start --app-start-command 'python3 server.py'
# Passenger runs the command through /bin/sh -c in this folder, with PORT set, waits until the
# port accepts connections, and forwards requests to it.
import http.server
import json
import os


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive with the server

    def reply(self, status, content_type, body):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def do_GET(self):
        if self.path == '/':
            text = f'Hello from a generic app (process {os.getpid()}, PORT={os.environ["PORT"]})\n'
            self.reply(200, 'text/plain; charset=utf-8', text.encode())
        elif self.path == '/env':
            names = ('PORT', 'PASSENGER_APP_ENV', 'RACK_ENV', 'NODE_ENV')
            body = json.dumps({name: os.environ.get(name) for name in names}, indent=2)
            self.reply(200, 'application/json', body.encode())
        else:
            self.reply(404, 'text/plain', b'Not found\n')

    do_HEAD = do_GET

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        self.reply(200, 'application/octet-stream', self.rfile.read(length))


if __name__ == '__main__':
    port = int(os.environ.get('PORT', '3000'))
    print(f'generic example listening on 127.0.0.1:{port}', flush=True)
    http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler).serve_forever()
