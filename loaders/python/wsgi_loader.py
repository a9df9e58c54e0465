# Python loader: serves a WSGI app (PEP 3333) over HTTP/1.1 on the Unix socket the core assigned.
#
# The core starts every WSGI app as
#
#   python3 <repo>/loaders/python/wsgi_loader.py <absolute passenger_wsgi.py>
#
# with PASSENGER_APP_SOCKET set and the app folder as the working directory. The startup file is
# loaded first as the module `passenger_wsgi` (the app folder first on sys.path) and must define
# `application`; a load error prints its traceback on stderr and exits 1, before the socket
# exists, so the core reports it. Then the socket is opened and requests are served one at a
# time (the pool sends a Python process one request at a time), over any number of kept-alive
# connections.
#
# Standard library only.
import importlib.util
import os
import select
import socket
import sys
import tempfile
import traceback
import urllib.parse
from http import HTTPStatus

MAX_HEAD = 64 * 1024
SPOOL_THRESHOLD = 1024 * 1024  # request bodies larger than this go to a temp file
HOP_BY_HOP = {'connection', 'keep-alive', 'transfer-encoding'}
# nginx's passenger_base_uri: the app lives under this path, which becomes SCRIPT_NAME.
BASE_URI = os.environ.get('PASSENGER_BASE_URI', '')


class BadRequest(Exception):
    pass


class ConnectionGone(Exception):
    pass


def load_app(path):
    """The module's `application`; on any error: traceback on stderr, exit 1."""
    try:
        sys.path[0] = os.path.dirname(path)  # the app folder instead of this loader's
        spec = importlib.util.spec_from_file_location('passenger_wsgi', path)
        module = importlib.util.module_from_spec(spec)
        sys.modules['passenger_wsgi'] = module
        spec.loader.exec_module(module)
        application = getattr(module, 'application', None)
        if not callable(application):
            raise AttributeError(f'{path} does not define a callable `application`')
        return application
    except SystemExit:
        raise
    except BaseException:
        sys.stderr.write(f'Error loading the WSGI app {path}:\n{traceback.format_exc()}')
        sys.stderr.flush()
        sys.exit(1)


def reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return 'Unknown'


class Connection:
    """One kept-alive connection from the core, with what was read but not used yet."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = bytearray()

    def fileno(self):
        return self.sock.fileno()

    def fill(self):
        try:
            data = self.sock.recv(256 * 1024)
        except (ConnectionResetError, BrokenPipeError):
            data = b''
        self.buffer += data
        return bool(data)

    def read_head(self):
        """The bytes up to "\\r\\n\\r\\n", or None when the peer closed before any byte."""
        start = 0
        while True:
            index = self.buffer.find(b'\r\n\r\n', start)
            if index >= 0:
                head = bytes(self.buffer[:index + 4])
                del self.buffer[:index + 4]
                return head
            if len(self.buffer) > MAX_HEAD:
                raise BadRequest('request head too large')
            start = max(0, len(self.buffer) - 3)
            if not self.fill():
                if not self.buffer:
                    return None
                raise BadRequest('connection closed in the request head')

    def read_line(self):
        while True:
            index = self.buffer.find(b'\r\n')
            if index >= 0:
                line = bytes(self.buffer[:index + 2])
                del self.buffer[:index + 2]
                return line
            if len(self.buffer) > MAX_HEAD:
                raise BadRequest('line too long')
            if not self.fill():
                raise BadRequest('connection closed in the request body')

    def copy_exactly(self, length, sink):
        while length > 0:
            if not self.buffer and not self.fill():
                raise BadRequest('connection closed in the request body')
            piece = self.buffer[:length]
            sink.write(piece)
            del self.buffer[:len(piece)]
            length -= len(piece)

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as error:
            raise ConnectionGone() from error


class Request:
    def __init__(self, head):
        lines = head[:-4].decode('latin-1').split('\r\n')
        parts = lines[0].split(' ')
        if len(parts) != 3 or parts[2] not in ('HTTP/1.1', 'HTTP/1.0'):
            raise BadRequest('malformed request line')
        self.method, self.target, self.version = parts
        self.headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(':')
            if not colon or not name or name != name.strip():
                raise BadRequest('malformed header line')
            self.headers.append((name, value.strip()))
        connection = ','.join(self.all('connection')).lower()
        if self.version == 'HTTP/1.1':
            self.keep_alive = 'close' not in connection
        else:
            self.keep_alive = 'keep-alive' in connection

    def all(self, name):
        return [value for key, value in self.headers if key.lower() == name]


def read_body(connection, request):
    chunked = 'chunked' in ','.join(request.all('transfer-encoding')).lower()
    lengths = request.all('content-length')
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_THRESHOLD)
    try:
        if chunked:
            while True:
                size = int(connection.read_line().split(b';', 1)[0].strip(), 16)
                if size == 0:
                    while connection.read_line() != b'\r\n':  # trailers
                        pass
                    break
                connection.copy_exactly(size, body)
                if connection.read_line() != b'\r\n':
                    raise BadRequest('malformed chunk')
        elif lengths:
            connection.copy_exactly(int(lengths[0], 10), body)
    except ValueError as error:
        body.close()
        raise BadRequest('malformed body framing') from error
    size = body.tell()
    body.seek(0)
    return body, size, chunked or bool(lengths)


def split_host(host, scheme):
    default_port = '443' if scheme == 'https' else '80'
    if not host:
        return 'localhost', default_port
    if host.startswith('['):
        end = host.find(']')
        name, rest = host[:end + 1], host[end + 1:]
        return name, rest[1:] if rest.startswith(':') and rest[1:] else default_port
    name, _, port = host.partition(':')
    return name, port or default_port


def environ_for(request, body, size, has_body):
    target = request.target
    if target.lower().startswith(('http://', 'https://')):
        slash = target.find('/', target.find('//') + 2)
        target = target[slash:] if slash >= 0 else '/'
    path, _, query = target.partition('?')
    script_name = ''
    if BASE_URI and (path == BASE_URI or path.startswith(BASE_URI + '/')):
        script_name, path = BASE_URI, path[len(BASE_URI):]
    forwarded_proto = request.all('x-forwarded-proto')
    scheme = 'https' if forwarded_proto and forwarded_proto[-1].lower() == 'https' else 'http'
    hosts = request.all('host')
    server_name, server_port = split_host(hosts[0] if hosts else '', scheme)
    forwarded_for = request.all('x-forwarded-for')
    remote = forwarded_for[-1].split(',')[-1].strip() if forwarded_for else ''
    environ = {
        'REQUEST_METHOD': request.method,
        'SCRIPT_NAME': script_name,
        'PATH_INFO': urllib.parse.unquote(path, encoding='latin-1'),
        'QUERY_STRING': query,
        'REQUEST_URI': target,
        'SERVER_NAME': server_name,
        'SERVER_PORT': server_port,
        'SERVER_PROTOCOL': request.version,
        'SERVER_SOFTWARE': 'Passenger (C++)',
        'REMOTE_ADDR': remote or '127.0.0.1',
        'wsgi.version': (1, 0),
        'wsgi.url_scheme': scheme,
        'wsgi.input': body,
        'wsgi.input_terminated': True,
        'wsgi.errors': sys.stderr,
        'wsgi.multithread': False,
        'wsgi.multiprocess': True,
        'wsgi.run_once': False,
        'wsgi.file_wrapper': FileWrapper,
    }
    if scheme == 'https':
        environ['HTTPS'] = 'on'
    for name, value in request.headers:
        if '_' in name:  # would be confused with a dash after the rename
            continue
        key = name.upper().replace('-', '_')
        if key == 'CONTENT_TYPE':
            environ['CONTENT_TYPE'] = value
            continue
        if key in ('CONTENT_LENGTH', 'TRANSFER_ENCODING'):
            continue
        key = 'HTTP_' + key
        if key in environ:
            value = environ[key] + ('; ' if key == 'HTTP_COOKIE' else ', ') + value
        environ[key] = value
    if has_body:
        environ['CONTENT_LENGTH'] = str(size)
    return environ


class FileWrapper:
    """wsgi.file_wrapper: iterates a file-like object in blocks, closes it."""

    def __init__(self, filelike, block_size=256 * 1024):
        self.filelike = filelike
        self.block_size = block_size
        if hasattr(filelike, 'close'):
            self.close = filelike.close

    def __iter__(self):
        while True:
            block = self.filelike.read(self.block_size)
            if not block:
                return
            yield block


class Response:
    """start_response, write() and the framing of one response (PEP 3333)."""

    def __init__(self, connection, request):
        self.connection = connection
        self.request = request
        self.status = None
        self.headers = None
        self.head_sent = False
        self.framing = None  # 'length', 'chunked', 'close' or 'none'

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError('start_response was already called')
        if not isinstance(status, str) or not status[:3].isdigit():
            raise AssertionError(f'status must be a str like "200 OK", got {status!r}')
        for name, value in headers:
            if not isinstance(name, str) or not isinstance(value, str):
                raise AssertionError(f'header names and values must be str: {name!r}: {value!r}')
        self.status = status
        self.headers = list(headers)
        return self.write

    def send_head(self, body_length=None):
        """body_length: the whole body's size when known before the head goes out."""
        if self.status is None:
            raise AssertionError('the app sent a body before calling start_response')
        code = int(self.status[:3])
        no_body = self.request.method == 'HEAD' or code < 200 or code in (204, 304)
        lines = [f'HTTP/1.1 {self.status}\r\n']
        length = None
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == 'content-length':
                length = value
            elif lowered in HOP_BY_HOP:
                continue
            lines.append(f'{name}: {value}\r\n')
        if no_body:
            self.framing = 'none'
            if length is None and body_length is not None and self.request.method == 'HEAD':
                lines.append(f'Content-Length: {body_length}\r\n')
        elif length is not None:
            self.framing = 'length'
        elif body_length is not None:
            self.framing = 'length'
            lines.append(f'Content-Length: {body_length}\r\n')
        elif self.request.version == 'HTTP/1.1':
            self.framing = 'chunked'
            lines.append('Transfer-Encoding: chunked\r\n')
        else:
            self.framing = 'close'
        if not self.request.keep_alive or self.framing == 'close':
            lines.append('Connection: close\r\n')
        lines.append('\r\n')
        self.head_sent = True
        self.connection.send(''.join(lines).encode('latin-1'))

    def write(self, data):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f'response body parts must be bytes, got {type(data).__name__}')
        if not data:
            return  # the head waits for the first non-empty part (PEP 3333)
        if not self.head_sent:
            self.send_head()
        if self.framing == 'none':
            return
        if self.framing == 'chunked':
            self.connection.send(b'%x\r\n' % len(data) + bytes(data) + b'\r\n')
        else:
            self.connection.send(data)

    def finish(self):
        if not self.head_sent:
            self.send_head(body_length=0)
        if self.framing == 'chunked':
            self.connection.send(b'0\r\n\r\n')
        return self.request.keep_alive and self.framing != 'close'


def log_app_error(request):
    sys.stderr.write(f'Error in the WSGI app for {request.method} {request.target}:\n'
                     f'{traceback.format_exc()}')
    sys.stderr.flush()


def serve(application, connection):
    """Serves one request; returns whether the connection stays open."""
    try:
        head = connection.read_head()
        if head is None:
            return False
        request = Request(head)
        body, size, has_body = read_body(connection, request)
    except BadRequest as error:
        sys.stderr.write(f'Bad request from the core: {error}\n')
        try:
            connection.send(b'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n'
                            b'Connection: close\r\n\r\n')
        except ConnectionGone:
            pass
        return False
    with body:
        response = Response(connection, request)
        result = None
        try:
            result = application(environ_for(request, body, size, has_body),
                                 response.start_response)
            if not response.head_sent and isinstance(result, (list, tuple)):
                parts = [bytes(part) for part in result]
                response.send_head(body_length=sum(len(part) for part in parts))
                for part in parts:
                    response.write(part)
            else:
                for part in result:
                    response.write(part)
            return response.finish()
        except ConnectionGone:
            return False
        except Exception:
            log_app_error(request)
            if response.head_sent:
                return False  # the head is out: all the client can learn is an early close
            text = b'Internal Server Error\n'
            try:
                connection.send(b'HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain'
                                b'\r\nContent-Length: %d\r\n%s\r\n%s' % (
                                    len(text),
                                    b'' if request.keep_alive else b'Connection: close\r\n',
                                    text))
            except ConnectionGone:
                return False
            return request.keep_alive
        finally:
            if hasattr(result, 'close'):
                try:
                    result.close()
                except Exception:
                    log_app_error(request)


def run(application, socket_path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(128)
    connections = []
    while True:
        ready = [c for c in connections if c.buffer]
        if not ready:
            readable, _, _ = select.select([listener] + connections, [], [])
            ready = [c for c in readable if c is not listener]
            if listener in readable:
                try:
                    sock, _ = listener.accept()
                    connections.append(Connection(sock))
                except (BlockingIOError, ConnectionAbortedError, InterruptedError):
                    pass
        for connection in ready:
            if not serve(application, connection):
                connections.remove(connection)
                connection.sock.close()


def main(argv):
    if len(argv) != 2:
        sys.exit('usage: wsgi_loader.py STARTUP_FILE (with PASSENGER_APP_SOCKET set)')
    socket_path = os.environ.get('PASSENGER_APP_SOCKET')
    if not socket_path:
        sys.exit('PASSENGER_APP_SOCKET is not set')
    # Each line the app prints reaches the log at once, as with other languages.
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    del sys.argv[0]  # the app sees its own file as sys.argv[0]
    application = load_app(os.path.abspath(argv[1]))
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    run(application, socket_path)


if __name__ == '__main__':
    main(list(sys.argv))
