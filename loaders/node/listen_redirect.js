'use strict';
// Node.js loader: makes an unmodified app listen where the core wants it.
//
// The core starts every Node.js app as
//
//   node --require <repo>/loaders/node/listen_redirect.js <startup file>
//
// with PASSENGER_APP_SOCKET set to an absolute Unix socket path. Apps usually hard-code a port
// (`server.listen(3000)`) or read one (`listen(process.env.PORT)`); either way the core could not
// reach them. So we patch net.Server.prototype.listen, which every server shares
// (net.createServer, http.createServer, https, express's app.listen, ...), and send the FIRST
// listen() call in the process to the socket instead. Later calls are left alone: an app that
// opens a second server (an admin port, say) gets what it asked for.
//
// What the app sees stays as close to normal as we can make it: its callback still runs, the
// 'listening' event still fires, errors still arrive as 'error' events, and listen() still
// returns the server. The one visible difference is that server.address() returns the socket
// path rather than {port, address, family}.
//
// Without PASSENGER_APP_SOCKET (e.g. `node --require listen_redirect.js app.js` by hand) the
// loader does nothing at all.
//
// Not supported: the cluster module. Workers forward listen() to the primary, which would
// then bind the one socket path several times.

const fs = require('fs');
const net = require('net');

const socketPath = process.env.PASSENGER_APP_SOCKET;

// Removes a leftover socket file from an earlier process at the same path, which would
// otherwise make listen() fail with EADDRINUSE. Only sockets are removed: a regular file at
// that path means something is misconfigured, and listen() will report it.
function removeStaleSocket(path) {
    try {
        if (fs.lstatSync(path).isSocket()) fs.unlinkSync(path);
    } catch (error) {
        if (error.code !== 'ENOENT') throw error;
    }
}

// listen() accepts (port, host, backlog, cb), (path, backlog, cb), (options, cb),
// (handle, backlog, cb) and (). In every form the callback, if any, is the last argument.
function callbackOf(args) {
    const last = args[args.length - 1];
    return typeof last === 'function' ? last : undefined;
}

// Keeps the options that still make sense for a Unix socket when the app passed an object.
function socketOptions(args) {
    // Connectable by the core when it runs as another user: the socket's folder keeps others out.
    const options = { path: socketPath, readableAll: true, writableAll: true };
    const first = args[0];
    if (first !== null && typeof first === 'object' && !(first instanceof net.Server)) {
        if (first.backlog !== undefined) options.backlog = first.backlog;
        if (first.signal !== undefined) options.signal = first.signal;
    }
    return options;
}

function install() {
    const originalListen = net.Server.prototype.listen;
    let redirected = false;

    net.Server.prototype.listen = function listen(...args) {
        if (redirected) return originalListen.apply(this, args);
        redirected = true;

        removeStaleSocket(socketPath);
        const options = socketOptions(args);
        const callback = callbackOf(args);
        return callback === undefined
            ? originalListen.call(this, options)
            : originalListen.call(this, options, callback);
    };
}

// The core reads the app's stdout and stderr through pipes and logs them line by line.
// Node writes to pipes synchronously on Linux, so lines arrive whole and in order, and are
// not lost when the app exits right after writing. Where they would be asynchronous (other
// platforms), ask for blocking writes so a crash message is not lost on exit.
function makeOutputLineFriendly() {
    for (const stream of [process.stdout, process.stderr]) {
        const handle = stream._handle;
        if (handle && typeof handle.setBlocking === 'function') handle.setBlocking(true);
    }
}

if (socketPath) {
    install();
    makeOutputLineFriendly();
}
