// bench/connections.sh's app: GET / answers "Hello world" (readiness, idle keep-alive
// connections); a WebSocket on any path gets "pid PID" on open, an echo of each message, and
// "broadcast SEQ" relays "b SEQ" to every WebSocket this process holds (as the leaderboard does
// when a score changes). Runs bare with `node app.js` (PORT or 3000); under our server or
// Debian's Passenger the loader redirects listen(). Needs `ws` (bench/node_modules, linked in).
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const body = Buffer.from('Hello world!\n');
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 600000;
server.headersTimeout = 0;
server.requestTimeout = 0;

const sockets = new Set();
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => sockets.delete(ws));
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('broadcast ')) {
        const message = 'b ' + text.slice(10);
        for (const peer of sockets) peer.send(message);
      } else {
        ws.send(text);
      }
    });
    ws.send(`pid ${process.pid}`);
  });
});
server.listen(Number(process.env.PORT) || 3000, process.env.HOST || '127.0.0.1');
