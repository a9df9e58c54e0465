// The leaderboard's browser side: renders the players the app pushes over SockJS, and sends the
// changes made here. Reconnects (with a backoff) when the connection drops, e.g. on a restart.
(function () {
    'use strict';
    var list = document.getElementById('players');
    var selection = document.getElementById('selection');
    var giveButton = document.getElementById('give');
    var addForm = document.getElementById('add');
    var newName = document.getElementById('new-name');
    var status = document.getElementById('status');

    var socket = null;
    var selectedId = null;
    var players = [];
    var retryMs = 500;

    function setStatus(state, text) {
        status.setAttribute('data-state', state);
        status.textContent = text;
    }

    function selectedPlayer() {
        for (var i = 0; i < players.length; i++) if (players[i].id === selectedId) return players[i];
        return null;
    }

    function render(next) {
        var before = {};
        for (var i = 0; i < players.length; i++) before[players[i].id] = players[i].score;
        players = next;
        list.textContent = '';
        players.forEach(function (player) {
            var item = document.createElement('li');
            item.className = 'player' + (player.id === selectedId ? ' selected' : '');
            item.setAttribute('data-id', String(player.id));
            var name = document.createElement('span');
            name.className = 'name';
            name.textContent = player.name;
            var score = document.createElement('span');
            score.className = 'score';
            score.textContent = String(player.score);
            if (player.id in before && before[player.id] !== player.score) score.className += ' changed';
            item.appendChild(name);
            item.appendChild(score);
            list.appendChild(item);
        });
        var selected = selectedPlayer();
        if (!selected) selectedId = null;
        selection.textContent = selected ? selected.name : 'Click a player to select';
        selection.className = selected ? 'name' : 'none';
        giveButton.disabled = !selected || !socket;
    }

    function send(message) {
        if (socket) socket.send(JSON.stringify(message));
    }

    list.addEventListener('click', function (event) {
        var item = event.target.closest('li.player');
        if (!item) return;
        selectedId = Number(item.getAttribute('data-id'));
        render(players);
    });
    giveButton.addEventListener('click', function () {
        if (selectedId !== null) send({ type: 'give', id: selectedId, points: 5 });
    });
    addForm.addEventListener('submit', function (event) {
        event.preventDefault();
        var name = newName.value.trim();
        if (name) send({ type: 'add', name: name });
        newName.value = '';
    });

    function connect() {
        var connection = new SockJS('/sockjs');
        setStatus('connecting', 'connecting…');
        connection.onopen = function () {
            socket = connection;
            retryMs = 500;
            render(players);
        };
        connection.onmessage = function (event) {
            var message = JSON.parse(event.data);
            if (message.type === 'hello') {
                status.setAttribute('data-pid', String(message.pid));
                status.setAttribute('data-transport', connection.transport);
                setStatus('open', 'over ' + connection.transport + ' from process ' + message.pid);
            } else if (message.type === 'players') {
                render(message.players);
            } else if (message.type === 'error') {
                console.warn('leaderboard: ' + message.message);
            }
        };
        connection.onclose = function () {
            if (socket === connection) socket = null;
            render(players);
            setStatus('closed', 'disconnected; reconnecting…');
            setTimeout(connect, retryMs);
            retryMs = Math.min(retryMs * 2, 8000);
        };
    }

    // The page came with the players already listed; SockJS keeps them current from here.
    var items = list.querySelectorAll('li.player');
    for (var i = 0; i < items.length; i++) {
        players.push({
            id: Number(items[i].getAttribute('data-id')),
            name: items[i].querySelector('.name').textContent,
            score: Number(items[i].querySelector('.score').textContent),
        });
    }
    connect();
})();
