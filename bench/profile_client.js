// bench/profile.sh's client: sends exactly COUNT `GET /` requests to 127.0.0.1:PORT over CONNECTIONS
// keep-alive connections, each connection one request at a time; prints the count, errors and
// the rate.  node profile_client.js PORT COUNT CONNECTIONS
'use strict';
const net = require('net');

const [port, count, connections] = process.argv.slice(2).map(Number);
const request = Buffer.from('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');
let started = 0;
let done = 0;
let errors = 0;
const t0 = process.hrtime.bigint();

function connection() {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let received = '';
    const next = () => {
      if (started >= count) {
        socket.end();
        resolve();
        return;
      }
      started++;
      socket.write(request);
    };
    socket.setEncoding('latin1');
    socket.on('connect', next);
    socket.on('error', () => {
      errors++;
      resolve();
    });
    socket.on('data', (data) => {
      received += data;
      for (;;) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number((/content-length:\s*(\d+)/i.exec(received.slice(0, end)) || [])[1] || 0);
        if (received.length < end + 4 + length) return;
        if (!received.startsWith('HTTP/1.1 200')) errors++;
        received = received.slice(end + 4 + length);
        done++;
        next();
      }
    });
  });
}

Promise.all(Array.from({ length: connections }, connection)).then(() => {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`requests ${done} errors ${errors} seconds ${seconds.toFixed(2)} rate ${(done / seconds).toFixed(0)}/s`);
});
