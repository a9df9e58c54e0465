// bench/memory.sh's client: opens COUNT keep-alive connections to 127.0.0.1:PORT, sends one GET
// on each and reads its response, prints "ready", then holds them all open and idle until its
// stdin closes (or it is killed).
'use strict';
const net = require('net');

const [port, count] = process.argv.slice(2).map(Number);

function open() {
    return new Promise((resolve, reject) => {
        const socket = net.connect({ port, host: '127.0.0.1' });
        let received = '';
        socket.setEncoding('latin1');
        socket.once('error', reject);
        socket.on('data', (data) => {
            received += data;
            const end = received.indexOf('\r\n\r\n');
            if (end < 0) return;
            const length = Number((/content-length:\s*(\d+)/i.exec(received) || [])[1] || 0);
            if (received.length >= end + 4 + length) resolve(socket);
        });
        socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'));
    });
}

(async () => {
    const sockets = [];
    for (let i = 0; i < count; i += 50) {
        sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, open))));
    }
    process.stdout.write(`ready ${sockets.length}\n`);
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
})().catch((error) => {
    process.stdout.write(`error ${error.message}\n`);
    process.exit(1);
});
