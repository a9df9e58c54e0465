// The bundled example: a plain Node.js HTTP server with no dependencies, written the way a naive
// app is, with a hard-coded port. Under `passenger start` the Node loader redirects that listen()
// to the socket the server assigned, and files in public/ are served without reaching this code.
'use strict';
const http = require('http');

const startedAt = new Date();
let requests = 0;

function page(res) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html>
<html>
<head><title>Hello from Passenger</title><link rel="stylesheet" href="/style.css"></head>
<body>
  <h1>Hello from Passenger</h1>
  <p>Served by process <strong>${process.pid}</strong>, request number ${requests} in this process,
     up since ${startedAt.toISOString()}.</p>
  <ul>
    <li><a href="/env">/env</a>: what the app was started with (JSON)</li>
    <li><a href="/slow?ms=2000">/slow?ms=2000</a>: answers after a delay</li>
    <li><a href="/stream">/stream</a>: streams a line per second for five seconds</li>
    <li><a href="/robots.txt">/robots.txt</a>: a static file from public/ (never reaches the app)</li>
  </ul>
</body>
</html>
`);
}

function json(res, value) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(value, null, 2) + '\n');
}

const server = http.createServer((req, res) => {
    requests += 1;
    const url = new URL(req.url, 'http://localhost');
    console.log(`${req.method} ${req.url}`);

    switch (url.pathname) {
        case '/':
            return page(res);
        case '/env':
            return json(res, {
                pid: process.pid,
                nodeEnv: process.env.NODE_ENV,
                port: process.env.PORT,
                cwd: process.cwd(),
                host: req.headers.host,
                forwardedFor: req.headers['x-forwarded-for'],
                forwardedProto: req.headers['x-forwarded-proto'],
            });
        case '/slow': {
            const ms = Math.min(Number(url.searchParams.get('ms')) || 1000, 60000);
            return setTimeout(() => json(res, { pid: process.pid, waitedMs: ms }), ms);
        }
        case '/stream': {
            res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
            let n = 0;
            const timer = setInterval(() => {
                n += 1;
                res.write(`line ${n} from process ${process.pid}\n`);
                if (n === 5) {
                    clearInterval(timer);
                    res.end();
                }
            }, 1000);
            return req.on('close', () => clearInterval(timer));
        }
        default:
            res.writeHead(404, { 'Content-Type': 'text/plain' });
            return res.end('Not found\n');
    }
});

server.listen(3000, () => console.log('Hello app listening (pid ' + process.pid + ')'));
