// The Meteor tutorial's leaderboard as a plain Node.js app: players and their scores, a button
// that gives the selected player points, and every open browser sees every change at once.
//
// Browsers talk to the app over SockJS (a WebSocket when it can, else HTTP streaming or long
// polling), the way Meteor does. Run with several processes, each SockJS session must stay on
// one process: `passenger start --min-instances 2 --sticky-sessions`. All processes share one
// SQLite database, and each one pushes changes made by the others to its own browsers.
'use strict';
const http = require('http');
const path = require('path');
const sockjs = require('sockjs');

const { Store, cleanName } = require('./store');

const POLL_INTERVAL_MS = 100;
const MAX_POINTS = 1000;
const MAX_BODY = 4096;

const store = new Store(process.env.LEADERBOARD_DB || path.join(__dirname, 'db', 'leaderboard.sqlite3'));
const clients = new Set();

function send(connection, message) {
    connection.write(JSON.stringify(message));
}

function broadcast() {
    const message = { type: 'players', players: store.players() };
    for (const connection of clients) send(connection, message);
}

// Applies one change asked for by a browser or an HTTP client; returns an error text or null.
function applyChange(change) {
    switch (change.type) {
        case 'give': {
            const points = change.points === undefined ? 5 : change.points;
            if (!Number.isInteger(change.id)) return 'id must be an integer';
            if (!Number.isInteger(points) || points === 0 || Math.abs(points) > MAX_POINTS)
                return `points must be a non-zero integer within ±${MAX_POINTS}`;
            if (!store.givePoints(change.id, points)) return 'no such player';
            break;
        }
        case 'add': {
            const name = cleanName(change.name);
            if (!name) return 'a name must have 1 to 40 characters';
            store.addPlayer(name);
            break;
        }
        case 'remove':
            if (!Number.isInteger(change.id) || !store.removePlayer(change.id)) return 'no such player';
            break;
        default:
            return 'unknown change';
    }
    broadcast();
    return null;
}

// --- SockJS: the live channel -------------------------------------------------------------

const realtime = sockjs.createServer({
    sockjs_url: '/sockjs.min.js', // for the iframe-based transports of old browsers (public/)
    log: (severity, text) => {
        if (severity === 'error') console.error(text);
    },
});

realtime.on('connection', (connection) => {
    clients.add(connection);
    send(connection, { type: 'hello', pid: process.pid, transport: connection.protocol });
    send(connection, { type: 'players', players: store.players() });
    connection.on('data', (text) => {
        let change;
        try {
            change = JSON.parse(text);
        } catch {
            return send(connection, { type: 'error', message: 'not JSON' });
        }
        if (change && change.type === 'ping') return send(connection, { type: 'pong', pid: process.pid, n: change.n });
        const error = applyChange(change || {});
        if (error) send(connection, { type: 'error', message: error });
    });
    connection.on('close', () => clients.delete(connection));
});

// Changes committed by the other processes reach this process's browsers too.
store.watch(POLL_INTERVAL_MS, broadcast);

// --- plain HTTP: the page and a small JSON API --------------------------------------------

function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res) {
    const rows = store
        .players()
        .map((p) => `<li class="player" data-id="${p.id}"><span class="name">${escapeHtml(p.name)}</span><span class="score">${p.score}</span></li>`)
        .join('\n        ');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Leaderboard</title>
  <link rel="stylesheet" href="/style.css">
</head>
<body>
  <main>
    <h1>Leaderboard</h1>
    <ol id="players" class="leaderboard">
        ${rows}
    </ol>
    <div class="details">
      <p id="selection" class="none">Click a player to select</p>
      <button id="give" type="button" disabled>Give 5 points</button>
    </div>
    <form id="add">
      <input id="new-name" name="name" placeholder="New player" maxlength="40" autocomplete="off">
      <button type="submit">Add</button>
    </form>
    <footer>
      Page served by process <strong id="page-pid">${process.pid}</strong>;
      live updates <span id="status" data-state="connecting">connecting…</span>
    </footer>
  </main>
  <script src="/sockjs.min.js"></script>
  <script src="/leaderboard.js"></script>
</body>
</html>
`);
}

function json(res, status, value) {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(value) + '\n');
}

function readBody(req, callback) {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
        body += chunk;
        if (body.length > MAX_BODY) req.destroy();
    });
    req.on('end', () => callback(body));
}

const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) return page(res);
    if (url.pathname === '/api/players' && req.method === 'GET') {
        return json(res, 200, { pid: process.pid, players: store.players() });
    }
    // POST /api/players/ID/points?points=N (5 by default), POST /api/players (JSON {"name": ...})
    const give = /^\/api\/players\/(\d+)\/points$/.exec(url.pathname);
    if (give && req.method === 'POST') {
        const points = url.searchParams.has('points') ? Number(url.searchParams.get('points')) : 5;
        const error = applyChange({ type: 'give', id: Number(give[1]), points });
        return json(res, error ? 400 : 200, error ? { error } : { pid: process.pid, players: store.players() });
    }
    if (url.pathname === '/api/players' && req.method === 'POST') {
        return readBody(req, (body) => {
            let name;
            try {
                name = JSON.parse(body).name;
            } catch {
                return json(res, 400, { error: 'the body must be JSON: {"name": "..."}' });
            }
            const error = applyChange({ type: 'add', name });
            json(res, error ? 400 : 201, error ? { error } : { pid: process.pid, players: store.players() });
        });
    }
    json(res, 404, { error: 'not found' });
});

realtime.installHandlers(server, { prefix: '/sockjs' });

function shutdown() {
    server.close();
    for (const connection of clients) connection.close(1001, 'Server shutting down');
    store.close();
    process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

// Under `passenger start` this listen() goes to the socket the server assigned; alone, `node
// app.js` serves on port 3000.
server.listen(3000, () => console.log(`Leaderboard listening (pid ${process.pid})`));
