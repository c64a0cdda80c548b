import { createHash } from 'node:crypto';

// The dashboard is one page with its style and script inline: nothing to build, nothing fetched
// from elsewhere. Data is written with textContent only (session ids come from clients), and the
// Content-Security-Policy allows exactly this script and this style, by hash.

const style = `
:root {
  --bg: #f5f6f8; --card: #ffffff; --text: #1b1f24; --muted: #6a737d; --line: #e3e6ea;
  --ok: #1f883d; --ok-bg: #dafbe1; --warn: #9a6700; --warn-bg: #fff8c5; --bad: #cf222e; --bad-bg: #ffebe9;
  --accent: #0969da; --bar: #0969da; --track: #eaeef2;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --card: #161b22; --text: #e6edf3; --muted: #8b949e; --line: #30363d;
    --ok: #3fb950; --ok-bg: #12261e; --warn: #d29922; --warn-bg: #272115; --bad: #f85149; --bad-bg: #2d1214;
    --accent: #58a6ff; --bar: #388bfd; --track: #21262d;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
.top { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
.brand { font-weight: 650; font-size: 16px; }
.brand .muted { font-weight: 400; }
.muted { color: var(--muted); }
.conn { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); font-size: 13px; }
.conn .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
.conn[data-mode="live"] .dot { background: var(--ok); }
.conn[data-mode="polling"] .dot { background: var(--warn); }
.conn[data-mode="offline"] .dot, .conn[data-mode="locked"] .dot { background: var(--bad); }
.token { margin-left: auto; display: flex; gap: 6px; align-items: center; }
.token input { width: 190px; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--text); }
button { font: inherit; padding: 4px 10px; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--text); cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: .5; cursor: not-allowed; }
button.kill { color: var(--bad); border-color: var(--bad); }
button.kill:hover:not(:disabled) { background: var(--bad-bg); border-color: var(--bad); }
button.revive { color: var(--ok); border-color: var(--ok); }
button.revive:hover:not(:disabled) { background: var(--ok-bg); border-color: var(--ok); }
.notice { margin: 12px 24px 0; padding: 8px 12px; border-radius: 6px; background: var(--card); border: 1px solid var(--line); }
.notice[data-tone="error"] { border-color: var(--bad); background: var(--bad-bg); }
.notice[data-tone="warn"] { border-color: var(--warn); background: var(--warn-bg); }
.notice[data-tone="ok"] { border-color: var(--ok); background: var(--ok-bg); }
.totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; padding: 16px 24px 0; }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.stat .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.stat .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat .sub { color: var(--muted); font-size: 12px; }
.stat.alert .value { color: var(--bad); }
.grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; padding: 12px 24px 24px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; overflow-x: auto; }
.card.wide { grid-column: 1 / -1; }
@media (max-width: 900px) { .grid { grid-template-columns: minmax(0, 1fr); } }
h2 { font-size: 14px; margin: 0 0 10px; font-weight: 650; }
h2 .muted { font-weight: 400; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-weight: 500; color: var(--muted); font-size: 12px; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
tr:last-child td { border-bottom: 0; }
th.num, td.num { text-align: right; }
tr[data-killed="true"] td { background: var(--bad-bg); }
tr[data-killed="true"] .badge[data-tone="bad"] { background: var(--bad); color: #fff; }
.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; word-break: break-all; }
.agent { color: var(--muted); font-size: 12px; }
.spend { min-width: 180px; }
.track { height: 8px; border-radius: 4px; background: var(--track); overflow: hidden; margin-bottom: 3px; }
.fill { height: 100%; width: 0; background: var(--bar); border-radius: 4px; transition: width .3s; }
.fill[data-level="warn"] { background: var(--warn); }
.fill[data-level="bad"] { background: var(--bad); }
.spend-text { font-size: 12px; color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: var(--track); color: var(--text); white-space: nowrap; }
.badge[data-tone="ok"] { background: var(--ok-bg); color: var(--ok); }
.badge[data-tone="warn"] { background: var(--warn-bg); color: var(--warn); }
.badge[data-tone="bad"] { background: var(--bad-bg); color: var(--bad); }
.empty { color: var(--muted); margin: 8px 0; }
.events { list-style: none; margin: 0; padding: 0; }
.events li { display: grid; grid-template-columns: 80px 80px minmax(120px, 220px) 160px 1fr; gap: 10px; align-items: baseline; padding: 6px 0; border-bottom: 1px solid var(--line); }
.events li:last-child { border-bottom: 0; }
.events .time { color: var(--muted); font-variant-numeric: tabular-nums; }
.events .code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.events .message { color: var(--muted); overflow-wrap: anywhere; }
svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--muted); font-size: 11px; }
svg .grid-line { stroke: var(--line); stroke-width: 1; }
svg .bar { fill: var(--bar); }
footer { color: var(--muted); font-size: 12px; padding: 0 24px 24px; }
`;

// Plain JavaScript inside a template literal: no backticks, no dollar-brace, no backslashes.
const script = `
(function () {
  'use strict';
  var TOKEN_KEY = 'ballast.adminToken';
  var memoryToken = '';
  var state = null;
  var receivedAt = 0;
  var source = null;
  var pollTimer = null;
  var rows = new Map();

  function byTestId(id) { return document.querySelector('[data-testid="' + id + '"]'); }

  function readToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (error) { return memoryToken; }
  }
  function writeToken(token) {
    memoryToken = token;
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (error) { /* storage off: the token lives in memory for this page */ }
    showTokenState();
  }
  function showTokenState() {
    var input = byTestId('admin-token-input');
    input.placeholder = readToken() ? 'admin token saved' : 'admin token';
  }

  // ?token= fills in the token once, then leaves the address bar (and the history).
  (function () {
    var params = new URLSearchParams(location.search);
    var token = params.get('token');
    if (token) {
      writeToken(token);
      params.delete('token');
      var rest = params.toString();
      history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
    }
  })();

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    if (attributes) {
      Object.keys(attributes).forEach(function (name) {
        var value = attributes[name];
        if (value === undefined || value === null || value === false) return;
        if (name === 'text') node.textContent = String(value);
        else if (name === 'className') node.className = value;
        else node.setAttribute(name, value === true ? '' : String(value));
      });
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function svgEl(tag, attributes) {
    var node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === 'text') node.textContent = String(attributes[name]);
      else node.setAttribute(name, String(attributes[name]));
    });
    return node;
  }

  function money(usd) {
    if (usd === undefined || usd === null) return '–';
    if (usd === 0) return '$0';
    if (usd >= 100) return '$' + usd.toFixed(0);
    if (usd >= 1) return '$' + usd.toFixed(2);
    if (usd >= 0.01) return '$' + usd.toFixed(4);
    return '$' + usd.toFixed(6);
  }
  function count(value) {
    if (value === undefined || value === null) return '–';
    if (value >= 1e6) return (value / 1e6).toFixed(1) + 'M';
    if (value >= 1e4) return Math.round(value / 1e3) + 'k';
    if (value >= 1e3) return (value / 1e3).toFixed(1) + 'k';
    return String(value);
  }
  function serverNow() { return state ? state.at + (Date.now() - receivedAt) : Date.now(); }
  function ago(epochMs) {
    if (!epochMs) return '–';
    var seconds = Math.max(0, Math.round((serverNow() - epochMs) / 1000));
    if (seconds < 60) return seconds + ' s ago';
    if (seconds < 3600) return Math.floor(seconds / 60) + ' min ago';
    if (seconds < 86400) return Math.floor(seconds / 3600) + ' h ago';
    return Math.floor(seconds / 86400) + ' d ago';
  }
  function clock(epochMs) {
    var date = new Date(epochMs);
    return [date.getHours(), date.getMinutes(), date.getSeconds()].map(function (part) {
      return part < 10 ? '0' + part : String(part);
    }).join(':');
  }
  function decisionTone(code) {
    if (!code) return '';
    if (code === 'allowed') return 'ok';
    if (code === 'killed' || code === 'state_unavailable') return 'bad';
    return 'warn';
  }

  var noticeTimer = null;
  function notice(message, tone) {
    var box = byTestId('notice');
    box.textContent = message;
    box.setAttribute('data-tone', tone || 'info');
    box.hidden = false;
    clearTimeout(noticeTimer);
    if (tone === 'ok') noticeTimer = setTimeout(function () { box.hidden = true; }, 4000);
  }
  function clearNotice() { byTestId('notice').hidden = true; }

  function setMode(mode, text) {
    var status = byTestId('connection-status');
    status.setAttribute('data-mode', mode);
    status.querySelector('.conn-text').textContent = text;
  }

  // Sessions: rows are kept by id and updated in place, so a button under the pointer stays put.
  function buildRow(id) {
    var row = { id: id, killed: false };
    row.idText = el('div', { className: 'id', 'data-testid': 'session-id', text: id });
    row.agent = el('div', { className: 'agent', 'data-testid': 'session-agent' });
    row.fill = el('div', { className: 'fill', 'data-testid': 'session-spend-bar' });
    row.spendText = el('div', { className: 'spend-text' });
    row.spend = el('td', { className: 'spend', 'data-testid': 'session-spend' }, [
      el('div', { className: 'track' }, [row.fill]), row.spendText,
    ]);
    row.steps = el('td', { className: 'num', 'data-testid': 'session-steps' });
    row.inFlight = el('td', { className: 'num', 'data-testid': 'session-in-flight' });
    row.saved = el('td', { className: 'num', 'data-testid': 'session-tokens-saved' });
    row.decision = el('span', { className: 'badge', 'data-testid': 'session-decision' });
    row.seen = el('td', { 'data-testid': 'session-last-seen' });
    row.status = el('span', { className: 'badge' });
    row.button = el('button', { type: 'button' });
    row.button.addEventListener('click', function () { act(row.killed ? 'revive' : 'kill', id, row.button); });
    row.tr = el('tr', { 'data-testid': 'session-row', 'data-session': id }, [
      el('td', null, [row.idText, row.agent]),
      row.spend, row.steps, row.inFlight, row.saved,
      el('td', null, [row.decision]),
      row.seen,
      el('td', null, [row.status]),
      el('td', { className: 'num' }, [row.button]),
    ]);
    return row;
  }

  function updateRow(row, session) {
    row.killed = session.killed === true;
    row.tr.setAttribute('data-killed', String(row.killed));
    row.agent.textContent = session.agent ? 'agent ' + session.agent : '';
    var spend = session.spendUsd;
    var budget = session.budgetUsd;
    var ratio = budget ? Math.min(1, (spend || 0) / budget) : 0;
    row.fill.style.width = (ratio * 100).toFixed(1) + '%';
    row.fill.setAttribute('data-level', ratio >= 0.9 ? 'bad' : ratio >= 0.6 ? 'warn' : 'ok');
    row.spend.setAttribute('data-ratio', budget ? ratio.toFixed(4) : '');
    row.spendText.textContent = spend === undefined ? '–'
      : budget ? money(spend) + ' of ' + money(budget) + ' (' + Math.round(ratio * 100) + '%)'
      : money(spend) + ' · no budget';
    row.steps.textContent = session.steps === undefined ? '–'
      : session.maxSteps ? session.steps + ' / ' + session.maxSteps : String(session.steps);
    row.inFlight.textContent = session.inFlight === undefined ? '–' : String(session.inFlight);
    if (session.tokensSaved === undefined) row.saved.textContent = '–';
    else {
      var share = session.tokensFullHistory ? Math.round((session.tokensSaved / session.tokensFullHistory) * 100) : 0;
      row.saved.textContent = count(session.tokensSaved) + (session.tokensSaved > 0 ? ' (' + share + '%)' : '');
    }
    row.decision.textContent = session.lastDecision || '–';
    row.decision.setAttribute('data-tone', decisionTone(session.lastDecision));
    row.lastSeen = session.lastSeen;
    row.seen.textContent = ago(session.lastSeen);
    if (row.killed) {
      row.status.textContent = 'killed';
      row.status.setAttribute('data-tone', 'bad');
      row.status.setAttribute('data-testid', 'session-killed');
    } else {
      var running = (session.inFlight || 0) > 0;
      row.status.textContent = running ? 'running' : 'idle';
      row.status.setAttribute('data-tone', running ? 'ok' : '');
      row.status.setAttribute('data-testid', 'session-status');
    }
    row.button.textContent = row.killed ? 'Revive' : 'Kill';
    row.button.className = row.killed ? 'revive' : 'kill';
    row.button.setAttribute('data-testid', row.killed ? 'revive-button' : 'kill-button');
    row.button.disabled = !state.adminActions || row.busy === true;
    row.button.title = state.adminActions ? (row.killed ? 'Let this session make calls again' : 'Refuse new calls and cut the ones in flight')
      : 'Needs @ballast/killswitch loaded and server.adminToken set';
  }

  function renderSessions() {
    var body = byTestId('sessions-body');
    var seen = new Set();
    state.sessions.forEach(function (session, index) {
      var row = rows.get(session.session);
      if (!row) { row = buildRow(session.session); rows.set(session.session, row); }
      updateRow(row, session);
      seen.add(session.session);
      if (body.children[index] !== row.tr) body.insertBefore(row.tr, body.children[index] || null);
    });
    rows.forEach(function (row, id) {
      if (!seen.has(id)) { row.tr.remove(); rows.delete(id); }
    });
    var empty = byTestId('sessions-empty');
    empty.hidden = state.sessions.length > 0;
    empty.textContent = state.plugins.some(function (name) { return name === 'killswitch' || name === 'memory'; })
      ? 'No sessions yet: calls with an x-ballast-session header show up here.'
      : 'No plugin reports sessions: load @ballast/killswitch (spend, steps, kills) or @ballast/memory (tokens saved).';
  }

  function renderTotals() {
    var totals = state.totals;
    byTestId('total-spend').textContent = money(totals.spendUsd);
    byTestId('total-calls').textContent = totals.calls + (totals.calls === 1 ? ' call' : ' calls');
    byTestId('total-sessions').textContent = String(totals.sessions);
    byTestId('total-live').textContent = totals.liveSessions + ' live';
    byTestId('total-in-flight').textContent = String(totals.inFlight);
    byTestId('total-denials').textContent = String(totals.denials);
    byTestId('total-killed').textContent = totals.killedSessions + ' killed';
    byTestId('total-killed').parentNode.classList.toggle('alert', totals.killedSessions > 0);
    byTestId('total-tokens-saved').textContent = count(totals.tokensSaved);
  }

  function renderProviders() {
    var body = byTestId('providers-body');
    body.replaceChildren.apply(body, state.providers.map(function (provider) {
      var tone = provider.state === 'closed' ? 'ok' : provider.state === 'open' ? 'bad' : 'warn';
      var blocked = provider.quotaBlockedUntil
        ? el('div', { className: 'agent', text: 'quota until ' + clock(provider.quotaBlockedUntil) }) : null;
      return el('tr', { 'data-testid': 'provider-row', 'data-target': provider.target }, [
        el('td', null, [
          el('div', { text: provider.provider }),
          provider.model ? el('div', { className: 'agent', text: provider.model }) : null,
        ]),
        el('td', null, [
          el('span', { className: 'badge', 'data-tone': blocked ? 'warn' : tone, 'data-testid': 'provider-state',
            'data-state': provider.state, text: provider.state }),
          blocked,
        ]),
        el('td', { className: 'num', 'data-testid': 'provider-calls', text: String(provider.calls) }),
        el('td', { className: 'num', 'data-testid': 'provider-fallbacks',
          title: provider.lastFallbackReason ? 'last: ' + provider.lastFallbackReason : null,
          text: provider.fallbacks + (provider.lastFallbackReason ? ' (' + provider.lastFallbackReason + ')' : '') }),
        el('td', { className: 'num', 'data-testid': 'provider-latency',
          text: provider.p50LatencyMs === undefined ? '–' : provider.p50LatencyMs.toFixed(provider.p50LatencyMs < 10 ? 1 : 0) + ' ms' }),
      ]);
    }));
  }

  function renderEvents() {
    var list = byTestId('events-list');
    list.replaceChildren.apply(list, state.events.map(function (event) {
      var tone = event.kind === 'revive' ? 'ok' : event.kind === 'denial' ? 'warn' : 'bad';
      return el('li', { 'data-testid': 'event-row', 'data-kind': event.kind }, [
        el('span', { className: 'time', text: clock(event.at) }),
        el('span', null, [el('span', { className: 'badge', 'data-tone': tone, text: event.kind })]),
        el('span', { className: 'id', 'data-testid': 'event-session', text: event.session || event.target || '–' }),
        el('span', { className: 'code', 'data-testid': 'event-code', text: event.code || '' }),
        el('span', { className: 'message', text: [event.message, event.plugin].filter(Boolean).join(' · ') }),
      ]);
    }));
    byTestId('events-empty').hidden = state.events.length > 0;
  }

  function niceCeiling(value) {
    if (!(value > 0)) return 0;
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 5, 10];
    for (var index = 0; index < steps.length; index += 1) {
      if (steps[index] * power >= value) return steps[index] * power;
    }
    return 10 * power;
  }

  function renderChart() {
    var svg = byTestId('spend-chart');
    var width = 600, height = 160, left = 64, right = 8, top = 10, bottom = 22;
    var columns = 60, columnMs = 10000;
    var end = Math.floor(serverNow() / columnMs) * columnMs + columnMs;
    var start = end - columns * columnMs;
    var sums = new Array(columns).fill(0);
    var calls = new Array(columns).fill(0);
    state.spend.points.forEach(function (point) {
      var index = Math.floor((point[0] - start) / columnMs);
      if (index >= 0 && index < columns) { sums[index] += point[1]; calls[index] += point[2]; }
    });
    var total = sums.reduce(function (sum, value) { return sum + value; }, 0);
    // The scale tops out at a round amount (1, 2 or 5 times a power of ten), so the axis reads
    // $0.50 and $1.00 rather than the largest bar's exact value.
    var max = niceCeiling(Math.max.apply(null, sums));
    var plotWidth = width - left - right, plotHeight = height - top - bottom;
    var nodes = [];
    [0, 0.5, 1].forEach(function (share) {
      var y = top + plotHeight * (1 - share);
      nodes.push(svgEl('line', { x1: left, x2: width - right, y1: y, y2: y, 'class': 'grid-line' }));
      nodes.push(svgEl('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', text: max > 0 ? money(max * share) : (share === 0 ? '$0' : '') }));
    });
    var step = plotWidth / columns;
    sums.forEach(function (usd, index) {
      if (calls[index] === 0) return;
      var barHeight = max > 0 ? Math.max(1, (usd / max) * plotHeight) : 1;
      var bar = svgEl('rect', { x: left + index * step + 1, y: top + plotHeight - barHeight, width: Math.max(1, step - 2),
        height: barHeight, rx: 1, 'class': 'bar', 'data-testid': 'spend-bar', 'data-usd': usd });
      bar.appendChild(svgEl('title', { text: clock(start + index * columnMs) + ': ' + money(usd) + ', ' + calls[index] + ' calls' }));
      nodes.push(bar);
    });
    [['-10 min', 0, 'start'], ['-5 min', 0.5, 'middle'], ['now', 1, 'end']].forEach(function (label) {
      nodes.push(svgEl('text', { x: left + plotWidth * label[1], y: height - 6, 'text-anchor': label[2], text: label[0] }));
    });
    if (total === 0) {
      nodes.push(svgEl('text', { x: left + plotWidth / 2, y: top + plotHeight / 2, 'text-anchor': 'middle', text: 'no spend in the last 10 minutes' }));
    }
    svg.replaceChildren.apply(svg, nodes);
    svg.setAttribute('data-total-usd', String(total));
    byTestId('spend-window-total').textContent = money(total) + ' in the last 10 min';
  }

  function render() {
    if (!state) return;
    renderTotals();
    renderSessions();
    renderProviders();
    renderEvents();
    renderChart();
    byTestId('updated-at').textContent = 'updated ' + clock(state.at) + ' · plugins: ' + (state.plugins.join(', ') || 'none');
  }

  function apply(next) {
    state = next;
    receivedAt = Date.now();
    render();
  }

  // Between pushes only the clock moves: relative times and the chart's window follow it.
  setInterval(function () {
    if (!state) return;
    rows.forEach(function (row) { row.seen.textContent = ago(row.lastSeen); });
    renderChart();
  }, 1000);

  function authHeaders() {
    var token = readToken();
    return token ? { authorization: 'Bearer ' + token } : {};
  }

  function fetchState() {
    return fetch('/dashboard/state', { headers: authHeaders(), cache: 'no-store' }).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        setMode('locked', 'needs the admin token');
        return response.json().then(function (body) {
          notice((body && body.error && body.error.message) || 'The dashboard needs the admin token.', 'warn');
        });
      }
      if (!response.ok) throw new Error('status ' + response.status);
      return response.json().then(apply);
    });
  }

  function stop() {
    if (source) { source.close(); source = null; }
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  function poll() {
    fetchState().then(function () {
      if (byTestId('connection-status').getAttribute('data-mode') !== 'locked') setMode('polling', 'polling every 2 s');
    }, function () { setMode('offline', 'proxy unreachable, retrying'); });
  }

  function startPolling() {
    stop();
    poll();
    pollTimer = setInterval(poll, 2000);
  }

  function connect() {
    stop();
    if (typeof EventSource !== 'function') { startPolling(); return; }
    setMode('connecting', 'connecting');
    var token = readToken();
    var current = new EventSource('/dashboard/events' + (token ? '?token=' + encodeURIComponent(token) : ''));
    source = current;
    current.addEventListener('state', function (event) {
      setMode('live', 'live');
      apply(JSON.parse(event.data));
    });
    current.onerror = function () {
      if (source !== current) return;
      // Refused (or not an event stream): poll instead, which also says why.
      if (current.readyState === EventSource.CLOSED) startPolling();
      else setMode('offline', 'reconnecting');
    };
  }

  function act(action, session, button) {
    var token = readToken();
    if (!token) {
      notice('Enter the admin token (server.adminToken) above to ' + action + ' sessions.', 'warn');
      byTestId('admin-token-input').focus();
      return;
    }
    var row = rows.get(session);
    if (row) row.busy = true;
    button.disabled = true;
    fetch('/admin/' + action, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ session: session }),
    }).then(function (response) {
      if (response.status === 401) {
        writeToken('');
        notice('The admin token was refused: enter it again.', 'error');
        return;
      }
      if (!response.ok) {
        return response.json().then(function (body) {
          notice((body && body.error && body.error.message) || action + ' failed (' + response.status + ')', 'error');
        }, function () { notice(action + ' failed (' + response.status + ')', 'error'); });
      }
      notice((action === 'kill' ? 'Killed ' : 'Revived ') + session + '.', 'ok');
      return fetchState();
    }).catch(function () {
      notice('Could not reach the proxy.', 'error');
    }).then(function () {
      if (row) row.busy = false;
      button.disabled = !(state && state.adminActions);
    });
  }

  byTestId('admin-token-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var input = byTestId('admin-token-input');
    var token = input.value.trim();
    if (!token) return;
    writeToken(token);
    input.value = '';
    clearNotice();
    connect();
  });

  showTokenState();
  connect();
})();
`;

const body = `<header class="top">
  <div class="brand">Ballast <span class="muted">proxy dashboard</span></div>
  <div class="conn" data-testid="connection-status" data-mode="connecting"><span class="dot"></span><span class="conn-text">connecting</span></div>
  <form class="token" data-testid="admin-token-form" autocomplete="off">
    <input type="password" data-testid="admin-token-input" aria-label="Admin token" placeholder="admin token">
    <button type="submit" data-testid="admin-token-save">Save token</button>
  </form>
</header>
<div class="notice" data-testid="notice" role="status" hidden></div>
<section class="totals">
  <div class="stat"><div class="label">Spent since start</div><div class="value" data-testid="total-spend">–</div><div class="sub" data-testid="total-calls">–</div></div>
  <div class="stat"><div class="label">Sessions</div><div class="value" data-testid="total-sessions">–</div><div class="sub" data-testid="total-live">–</div></div>
  <div class="stat"><div class="label">Calls in flight</div><div class="value" data-testid="total-in-flight">–</div><div class="sub">now</div></div>
  <div class="stat"><div class="label">Denials</div><div class="value" data-testid="total-denials">–</div><div class="sub" data-testid="total-killed">–</div></div>
  <div class="stat"><div class="label">Tokens saved by memory</div><div class="value" data-testid="total-tokens-saved">–</div><div class="sub">input tokens not sent</div></div>
</section>
<main class="grid">
  <section class="card wide">
    <h2>Sessions</h2>
    <table data-testid="sessions-table">
      <thead><tr><th>Session</th><th>Spend vs budget</th><th class="num">Steps</th><th class="num">In flight</th><th class="num">Tokens saved</th><th>Last decision</th><th>Last seen</th><th>Status</th><th></th></tr></thead>
      <tbody data-testid="sessions-body"></tbody>
    </table>
    <p class="empty" data-testid="sessions-empty">Waiting for data.</p>
  </section>
  <section class="card">
    <h2>Spend over time <span class="muted" data-testid="spend-window-total"></span></h2>
    <svg data-testid="spend-chart" viewBox="0 0 600 160" role="img" aria-label="Spend per 10 seconds over the last 10 minutes"></svg>
  </section>
  <section class="card">
    <h2>Providers</h2>
    <table data-testid="providers-table">
      <thead><tr><th>Target</th><th>Breaker</th><th class="num">Calls</th><th class="num">Fallbacks</th><th class="num">p50 latency</th></tr></thead>
      <tbody data-testid="providers-body"></tbody>
    </table>
  </section>
  <section class="card wide">
    <h2>Recent denials and kills</h2>
    <ol class="events" data-testid="events-list"></ol>
    <p class="empty" data-testid="events-empty">Nothing denied, cut or killed yet.</p>
  </section>
</main>
<footer data-testid="updated-at"></footer>`;

const hashOf = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

let page: { html: string; contentSecurityPolicy: string } | undefined;

/**
 * The dashboard page and the Content-Security-Policy that lets exactly its inline script and style
 * run; made on first use.
 * @returns the HTML and its policy
 */
export function dashboardPage(): { html: string; contentSecurityPolicy: string } {
  page ??= {
    html: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ballast dashboard</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
${body}
<script>${script}</script>
</body>
</html>
`,
    contentSecurityPolicy: [
      "default-src 'none'",
      `script-src ${hashOf(script)}`,
      `style-src ${hashOf(style)}`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  };
  return page;
}
