// bench/connections.sh's client. Opens COUNT connections to 127.0.0.1:PORT from the loopback
// addresses 127.0.0.2 .. 127.0.0.(1+ADDRESSES) in turn (so that no source address runs out of
// ports), BATCH at a time, then prints "ready N" and holds them open until stdin closes.
//   node connections_client.js idle PORT COUNT ADDRESSES  # keep-alive: one GET / each, then idle
//   node connections_client.js ws PORT COUNT ADDRESSES    # WebSockets (ws), each got "pid PID"
// With ws, stdin lines are commands, each answered by one line:
//   "broadcast K": K rounds; in each, one socket per app process sends "broadcast SEQ" and the
//     round ends when every socket has received "b SEQ" -> "broadcast K delivered D of E ms T"
//   "echo": every socket sends a message and waits for its echo -> "echo delivered D of N ms T"
'use strict';
const net = require('net');
const readline = require('readline');
const WebSocket = require('ws');

const [mode, portText, countText, addressesText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const addresses = Number(addressesText || 1);
const batch = Number(process.env.BATCH || 100);
const roundTimeoutMs = 60000;
const localAddress = (i) => `127.0.0.${2 + (i % addresses)}`;

function openIdle(i) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: localAddress(i) });
    let received = '';
    socket.setEncoding('latin1');
    socket.once('error', reject);
    socket.on('data', (data) => {
      received += data;
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number((/content-length:\s*(\d+)/i.exec(received) || [])[1] || 0);
      if (received.length >= end + 4 + length) {
        socket.removeAllListeners('data');
        resolve(socket);
      }
    });
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'));
  });
}

// Each socket's latest broadcast and echo, counted by the round that waits for them.
let onBroadcast = () => {};
let onEcho = () => {};

function openWebSocket(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      localAddress: localAddress(i),
      perMessageDeflate: false,
    });
    ws.once('error', reject);
    ws.once('message', (data) => {
      const [word, pid] = data.toString().split(' ');
      if (word !== 'pid') return reject(new Error(`unexpected first message ${data}`));
      ws.pid = pid;
      ws.on('message', (message) => {
        const text = message.toString();
        if (text.startsWith('b ')) onBroadcast(Number(text.slice(2)));
        else onEcho(text);
      });
      resolve(ws);
    });
  });
}

async function openAll(open) {
  const sockets = [];
  for (let i = 0; i < count; i += batch) {
    const size = Math.min(batch, count - i);
    sockets.push(...(await Promise.all(Array.from({ length: size }, (_, k) => open(i + k)))));
  }
  return sockets;
}

function waitFor(expected, install) {
  return new Promise((resolve) => {
    let delivered = 0;
    const timer = setTimeout(() => resolve(delivered), roundTimeoutMs);
    install(() => {
      if (++delivered === expected) {
        clearTimeout(timer);
        resolve(delivered);
      }
    });
  });
}

async function broadcast(sockets, rounds) {
  const senders = new Map();
  for (const ws of sockets) if (!senders.has(ws.pid)) senders.set(ws.pid, ws);
  let delivered = 0;
  const started = process.hrtime.bigint();
  for (let seq = 1; seq <= rounds; seq++) {
    const done = waitFor(sockets.length, (hit) => {
      onBroadcast = (got) => got === seq && hit();
    });
    for (const ws of senders.values()) ws.send(`broadcast ${seq}`);
    delivered += await done;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return `broadcast ${rounds} delivered ${delivered} of ${rounds * sockets.length} ms ${ms.toFixed(0)}`;
}

async function echo(sockets) {
  const started = process.hrtime.bigint();
  const done = waitFor(sockets.length, (hit) => {
    onEcho = (text) => text.startsWith('e ') && hit();
  });
  sockets.forEach((ws, i) => ws.send(`e ${i}`));
  const delivered = await done;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return `echo delivered ${delivered} of ${sockets.length} ms ${ms.toFixed(0)}`;
}

(async () => {
  const sockets = await openAll(mode === 'ws' ? openWebSocket : openIdle);
  const pids = new Set(sockets.map((ws) => ws.pid).filter(Boolean));
  process.stdout.write(`ready ${sockets.length} processes ${pids.size}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [command, argument] = line.trim().split(/\s+/);
    if (command === 'broadcast') process.stdout.write((await broadcast(sockets, Number(argument))) + '\n');
    else if (command === 'echo') process.stdout.write((await echo(sockets)) + '\n');
  }
  process.exit(0);
})().catch((error) => {
  process.stdout.write(`error ${error.message}\n`);
  process.exit(1);
});
