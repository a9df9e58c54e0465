// The players and their scores, in one SQLite database that every process of the app opens
// (db/leaderboard.sqlite3, WAL mode so readers never wait for a writer). A process learns that
// another one changed the data from SQLite's own change counter (PRAGMA data_version), which it
// polls: cheap, and needs nothing but the database file.
'use strict';
const fs = require('fs');
const path = require('path');
const Database = require('better-sqlite3');

// The names of the Meteor tutorial's leaderboard.
const SEED_NAMES = ['Ada Lovelace', 'Grace Hopper', 'Marie Curie', 'Carl Friedrich Gauss', 'Nikola Tesla', 'Claude Shannon'];
const MAX_NAME_LENGTH = 40;

class Store {
    constructor(file) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        // Several processes may open and initialize the database at the same moment: writers wait
        // for each other (busy timeout) instead of failing.
        this.db = new Database(file, { timeout: 5000 });
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
        this.db.transaction(() => {
            this.db.exec(`CREATE TABLE IF NOT EXISTS players (
                id    INTEGER PRIMARY KEY,
                name  TEXT NOT NULL,
                score INTEGER NOT NULL DEFAULT 0)`);
            const { count } = this.db.prepare('SELECT count(*) AS count FROM players').get();
            if (count === 0) {
                const insert = this.db.prepare('INSERT INTO players (name, score) VALUES (?, ?)');
                for (const name of SEED_NAMES) insert.run(name, Math.floor(Math.random() * 10) * 5);
            }
        }).immediate();

        this.listStatement = this.db.prepare('SELECT id, name, score FROM players ORDER BY score DESC, name ASC');
        this.givePointsStatement = this.db.prepare('UPDATE players SET score = score + ? WHERE id = ?');
        this.addStatement = this.db.prepare('INSERT INTO players (name, score) VALUES (?, 0)');
        this.removeStatement = this.db.prepare('DELETE FROM players WHERE id = ?');
        this.dataVersionStatement = this.db.prepare('PRAGMA data_version').pluck();
        this.lastDataVersion = this.dataVersionStatement.get();
        this.timer = null;
    }

    players() {
        return this.listStatement.all();
    }

    // Each returns whether something changed.
    givePoints(id, points) {
        return this.givePointsStatement.run(points, id).changes > 0;
    }

    addPlayer(name) {
        this.addStatement.run(name);
        return true;
    }

    removePlayer(id) {
        return this.removeStatement.run(id).changes > 0;
    }

    // Calls onChange() within `intervalMs` of a change another process (or connection) committed.
    // Changes made through this connection do not count: the caller knows about those already.
    watch(intervalMs, onChange) {
        this.timer = setInterval(() => {
            const version = this.dataVersionStatement.get();
            if (version === this.lastDataVersion) return;
            this.lastDataVersion = version;
            onChange();
        }, intervalMs);
        this.timer.unref();
    }

    close() {
        if (this.timer) clearInterval(this.timer);
        this.db.close();
    }
}

// A player's name from user input: trimmed, not empty, not too long; null when unusable.
function cleanName(name) {
    if (typeof name !== 'string') return null;
    const trimmed = name.replace(/\s+/g, ' ').trim();
    if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH) return null;
    return trimmed;
}

module.exports = { Store, cleanName };
