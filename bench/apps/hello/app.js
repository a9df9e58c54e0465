// Hello-world benchmark app. A plain HTTP server: run bare with `node app.js`
// (PORT or 3000, or SOCKET_PATH); under our server or Debian's Passenger the loader redirects listen().
'use strict';
const http = require('http');

const body = Buffer.from('Hello world!\n');
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65000;
// SOCKET_PATH: a Unix socket instead (threads.sh's floor proxy connects to it as our core would).
if (process.env.SOCKET_PATH) server.listen(process.env.SOCKET_PATH);
else server.listen(Number(process.env.PORT) || 3000, process.env.HOST || '127.0.0.1');
