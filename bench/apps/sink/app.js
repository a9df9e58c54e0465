// Memory benchmark app (bench/memory.sh): GET answers "Hello world!"; any request with a body
// reads it to the end and answers its length. Runs bare (PORT, HOST) or under a server.
'use strict';
const http = require('http');

const hello = Buffer.from('Hello world!\n');
const server = http.createServer((req, res) => {
  let length = 0;
  req.on('data', (chunk) => (length += chunk.length));
  req.on('end', () => {
    const body = req.method === 'GET' ? hello : Buffer.from(`${length}\n`);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 600000;
server.headersTimeout = 610000;
server.requestTimeout = 0;
server.listen(Number(process.env.PORT) || 3000, process.env.HOST || '127.0.0.1');
