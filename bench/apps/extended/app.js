// bench/extended.sh's app. GET / answers "Hello world"; GET /big answers 100 KiB; GET /pid answers
// the process id (to see which process replied after a restart); a request with a body (the 1 MiB
// POST) is read to the end and answered with its length. Files under public/ are served by the
// server in front (ours, Passenger, nginx), never by this app. Runs bare (PORT, HOST), under a
// server, or in PM2's cluster mode.
'use strict';
const http = require('http');

const hello = Buffer.from('Hello world\n');
const big = Buffer.alloc(100 * 1024, 'x');
const pid = Buffer.from(`${process.pid}\n`);

const server = http.createServer((req, res) => {
  if (req.method === 'GET' || req.method === 'HEAD') {
    const body = req.url === '/big' ? big : req.url === '/pid' ? pid : hello;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
    return;
  }
  let length = 0;
  req.on('data', (chunk) => (length += chunk.length));
  req.on('end', () => {
    const body = Buffer.from(`${length}\n`);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 600000;
server.headersTimeout = 610000;
server.requestTimeout = 0;
server.listen(Number(process.env.PORT) || 3000, process.env.HOST || '127.0.0.1');
