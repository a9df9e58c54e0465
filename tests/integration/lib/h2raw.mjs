// A raw HTTP/2 client over TLS (ALPN h2) that writes frames byte by byte, for what well-behaved
// clients never send: CONTINUATION floods, HPACK bombs, extended CONNECT. It decodes only frame
// headers (and GOAWAY/RST_STREAM codes); HPACK here is the few encodings the tests need.
import tls from 'node:tls';

export const FrameType = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 };
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 };
const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export function frame(type, flags, streamId, payload = Buffer.alloc(0)) {
    const header = Buffer.alloc(9);
    header.writeUIntBE(payload.length, 0, 3);
    header[3] = type;
    header[4] = flags;
    header.writeUInt32BE(streamId & 0x7fffffff, 5);
    return Buffer.concat([header, payload]);
}

// SETTINGS with [id, value] pairs.
export function settingsFrame(pairs = []) {
    const payload = Buffer.alloc(6 * pairs.length);
    pairs.forEach(([id, value], i) => {
        payload.writeUInt16BE(id, 6 * i);
        payload.writeUInt32BE(value, 6 * i + 2);
    });
    return frame(FrameType.SETTINGS, 0, 0, payload);
}

// HPACK integer with an N-bit prefix (RFC 7541 5.1); `first` holds the pattern's high bits.
function hpackInteger(value, prefixBits, first) {
    const max = (1 << prefixBits) - 1;
    if (value < max) return Buffer.from([first | value]);
    const bytes = [first | max];
    value -= max;
    while (value >= 128) {
        bytes.push((value % 128) + 128);
        value = Math.floor(value / 128);
    }
    bytes.push(value);
    return Buffer.from(bytes);
}

const hpackString = (text) => Buffer.concat([hpackInteger(Buffer.byteLength(text), 7, 0), Buffer.from(text)]);
// An entry of the static or dynamic table (62 is the newest dynamic one).
export const indexed = (index) => hpackInteger(index, 7, 0x80);
// A literal field, added to the dynamic table (it becomes index 62).
export const literalIndexed = (name, value) => Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]);
// A literal field, not added to the table.
export const literal = (name, value) => Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);

// The request pseudo-header fields of `GET path` (static table: :method GET, :scheme https).
export function requestBlock(path, authority = 'localhost', method = 'GET') {
    return Buffer.concat([
        method === 'GET' ? indexed(2) : literal(':method', method),
        indexed(7),
        literal(':path', path),
        literal(':authority', authority),
    ]);
}

// Connects with ALPN h2, sends the preface and `settings`, and acknowledges the server's
// SETTINGS (later ones are acknowledged as they come). Resolves a connection whose
// `frames` lists what arrived ({type, flags, streamId, payload}), with waitFor(predicate) and
// `closed` (a promise: the server ended the connection).
export function connectRaw(port, { ca, settings = [] } = {}) {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
            if (socket.alpnProtocol !== 'h2') return reject(new Error(`ALPN chose ${socket.alpnProtocol}`));
            socket.write(Buffer.concat([preface, settingsFrame(settings)]));
        });
        const frames = [];
        const waiters = [];
        let pending = Buffer.alloc(0);
        let closedResolve;
        const closed = new Promise((r) => (closedResolve = r));
        socket.on('data', (chunk) => {
            pending = Buffer.concat([pending, chunk]);
            while (pending.length >= 9) {
                const length = pending.readUIntBE(0, 3);
                if (pending.length < 9 + length) break;
                const received = { type: pending[3], flags: pending[4], streamId: pending.readUInt32BE(5) & 0x7fffffff, payload: pending.subarray(9, 9 + length) };
                pending = pending.subarray(9 + length);
                frames.push(received);
                // The server's first SETTINGS is acknowledged before the connection is handed
                // over, so that no ACK falls inside a header block the test sends.
                if (received.type === FrameType.SETTINGS && !(received.flags & Flag.ACK)) {
                    socket.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
                    resolve(connection);
                }
            }
            for (const waiter of [...waiters]) waiter();
        });
        socket.on('error', () => {});
        socket.on('close', () => {
            closedResolve();
            for (const waiter of [...waiters]) waiter();
        });
        socket.once('error', reject);
        const connection = {
            socket,
            frames,
            closed,
            write: (data) => new Promise((done) => (socket.destroyed ? done(false) : socket.write(data, () => done(true)))),
            // Resolves the first frame matching `predicate`, or null once the connection closed or
            // `timeoutMs` passed.
            waitFor(predicate, timeoutMs = 15000) {
                return new Promise((done) => {
                    const check = () => {
                        const found = frames.find(predicate);
                        if (found || socket.destroyed || socket.readableEnded) {
                            waiters.splice(waiters.indexOf(check), 1);
                            clearTimeout(timer);
                            done(found ?? null);
                        }
                    };
                    const timer = setTimeout(() => {
                        waiters.splice(waiters.indexOf(check), 1);
                        done(frames.find(predicate) ?? null);
                    }, timeoutMs);
                    waiters.push(check);
                    check();
                });
            },
            close: () => socket.destroy(),
        };
    });
}

// The error code of a GOAWAY or RST_STREAM frame.
export function errorCode(received) {
    return received.type === FrameType.GOAWAY ? received.payload.readUInt32BE(4) : received.payload.readUInt32BE(0);
}
