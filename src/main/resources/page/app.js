// Meterline's page: reads this server's JSON API and nothing else. No build step: plain script, one closure.
'use strict';
(function () {
  const HEALTH_EVERY_MS = 3000;
  const LIST_EVERY_MS = 10000;
  const CHART_EVERY_MS = 10000;
  const ANSWER_WITHIN_MS = 8000;
  const MAX_LINES = 40;
  const TOKEN_KEY = 'meterline.token';
  const RANGES = { '15m': 15 * 60e3, '1h': 3600e3, '6h': 6 * 3600e3, '24h': 24 * 3600e3 };
  const NICE_STEPS_MS = [1e3, 2e3, 5e3, 10e3, 15e3, 20e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1200e3, 1800e3,
    3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3];
  const COLORS = ['#0b57d0', '#c5221f', '#188038', '#8430ce', '#b06000', '#007b83', '#d01884', '#3c4043',
    '#5e8e00', '#9f3a00'];

  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const params = new URLSearchParams(location.search);
  const metric = params.get('metric');

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    prev: null,            // previous stats sample, for rates
    prevAt: 0,
    lastAnswerAt: 0,
    windowMs: null,
    metrics: null,
    tagKeys: [],
    seriesTags: [],
    plot: null,
    alerts: new Map(),
  };

  /** An HTTP answer other than 2xx, carrying the server's {"error":…} message. */
  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** No answer at all: the server is down, restarting, or the network is in the way. */
  class Unreachable extends Error {}

  async function api(path, okStatuses) {
    const headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    // A server that accepts the connection and never answers counts as not answering, like one that refuses it.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), ANSWER_WITHIN_MS);
    let res;
    let json = null;
    try {
      res = await fetch(path, { headers, cache: 'no-store', signal: abort.signal });
      try {
        json = await res.json();
      } catch (e) {
        if (abort.signal.aborted) throw e;
        json = null;
      }
    } catch (e) {
      throw new Unreachable(String(e && e.message || e));
    } finally {
      clearTimeout(timer);
    }
    state.lastAnswerAt = Date.now();
    if (res.status === 401) {
      askForToken();
      throw new HttpError(401, 'missing or invalid bearer token');
    }
    if (!res.ok && !(okStatuses || []).includes(res.status)) {
      throw new HttpError(res.status, (json && json.error) || res.statusText || ('HTTP ' + res.status));
    }
    return json;
  }

  // ---- alerts -------------------------------------------------------------------------------------------------

  function setAlert(key, title, text) {
    state.alerts.set(key, { title, text });
    renderAlerts();
  }

  function clearAlert(key) {
    if (state.alerts.delete(key)) renderAlerts();
  }

  function renderAlerts() {
    const box = $('alerts');
    box.replaceChildren();
    for (const [key, a] of state.alerts) {
      const div = el('div', { class: 'alert', 'data-alert': key });
      div.append(el('strong', {}, a.title), el('span', {}, a.text));
      box.append(div);
    }
  }

  /** Shows a failed call as an alert; a 401 shows the token form instead (see api). */
  function report(key, what, e) {
    if (e instanceof HttpError && e.status === 401) return;
    if (e instanceof Unreachable) {
      showUnreachable();
      return;
    }
    if (e instanceof HttpError) {
      setAlert(key, what + ' failed (HTTP ' + e.status + ')', e.message);
      return;
    }
    setAlert(key, what + ' failed', String(e && e.message || e));
  }

  function showUnreachable() {
    const since = state.lastAnswerAt ? ' Last answer at ' + new Date(state.lastAnswerAt).toLocaleTimeString() + '.' : '';
    setAlert('unreachable', 'Meterline is not answering',
      'No answer from ' + location.origin + '.' + since + ' The page tries again every ' + (HEALTH_EVERY_MS / 1000) + ' s.');
    setBadge('unreachable', 'not answering', '');
    body.dataset.health = 'unreachable';
    $('tiles').classList.add('stale');
  }

  // ---- token --------------------------------------------------------------------------------------------------

  function askForToken() {
    const form = $('token-form');
    const refused = !!state.token;
    $('token-message').textContent = refused
      ? 'The server refused the token (401). Enter a valid bearer token; it is kept in this browser tab only.'
      : 'This Meterline asks for a bearer token before it shows any data. The token is kept in this browser tab only '
        + '(session storage) and sent in the Authorization header.';
    if (form.hidden) {
      form.hidden = false;
      $('token-input').focus();
    }
    body.dataset.auth = 'needed';
  }

  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('token-input').value.trim();
    if (!t) return;
    state.token = t;
    sessionStorage.setItem(TOKEN_KEY, t);
    $('token-input').value = '';
    $('token-form').hidden = true;
    $('token-button').hidden = false;
    body.dataset.auth = 'sent';
    refreshAll();
  });

  $('token-button').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    askForToken();
  });
  $('token-button').hidden = !state.token;

  // ---- formatting ---------------------------------------------------------------------------------------------

  const intFmt = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
  const rateFmt = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
  const sigFmt = new Intl.NumberFormat('en', { maximumSignificantDigits: 4 });

  function num(v) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    if (Number.isInteger(v)) return intFmt.format(v);
    return Math.abs(v) >= 1000 ? intFmt.format(v) : sigFmt.format(v);
  }

  function rate(v) {
    return v === null || v === undefined ? '—' : rateFmt.format(v) + '/s';
  }

  function duration(ms) {
    if (ms === null || ms === undefined) return '—';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60e3) return rateFmt.format(ms / 1000) + ' s';
    if (ms < 3600e3) return Math.floor(ms / 60e3) + ' min ' + Math.round((ms % 60e3) / 1000) + ' s';
    return Math.floor(ms / 3600e3) + ' h ' + Math.round((ms % 3600e3) / 60e3) + ' min';
  }

  /** A duration as the API's resolution parameter takes it: 10s, 2m, 1h, 1d. */
  function durationParam(ms) {
    if (ms % 86400e3 === 0) return ms / 86400e3 + 'd';
    if (ms % 3600e3 === 0) return ms / 3600e3 + 'h';
    if (ms % 60e3 === 0) return ms / 60e3 + 'm';
    if (ms % 1000 === 0) return ms / 1000 + 's';
    return ms + 'ms';
  }

  function tagsLabel(tags) {
    const keys = Object.keys(tags || {}).sort();
    if (keys.length === 0) return '(all series)';
    return keys.map((k) => k + '=' + tags[k]).join(', ');
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : String(c));
    return e;
  }

  function cell(text, cls) {
    return el('td', cls ? { class: cls } : {}, text);
  }

  function fillRows(tbody, rows, colspan, emptyText) {
    tbody.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan, class: 'muted' }, emptyText))]));
  }

  // ---- health and rates ---------------------------------------------------------------------------------------

  function setBadge(cls, text, reason) {
    const b = $('status-badge');
    b.className = 'badge badge-' + cls;
    b.textContent = text;
    $('status-reason').textContent = reason || '';
  }

  function tile(name, value, sub, level, fraction) {
    const t = el('div', { class: 'tile' + (level ? ' ' + level : '') });
    t.append(el('div', { class: 'name' }, name), el('div', { class: 'value' }, value));
    if (fraction !== undefined && fraction !== null) {
      const m = el('div', { class: 'meter', role: 'meter', 'aria-label': name, 'aria-valuemin': '0',
        'aria-valuemax': '100', 'aria-valuenow': String(Math.round(fraction * 100)) });
      const bar = el('span');
      bar.style.width = Math.min(100, Math.max(0, fraction * 100)) + '%';
      m.append(bar);
      t.append(m);
    }
    if (sub) t.append(el('div', { class: 'sub' }, sub));
    return t;
  }

  function perSecond(s, prev, dt, key) {
    return prev && dt > 0 ? Math.max(0, (s[key] - prev[key]) / dt) : null;
  }

  function byReasonRows(cur, prev, dt) {
    const rows = [];
    for (const [reason, n] of Object.entries(cur || {}).sort((a, b) => b[1] - a[1])) {
      const before = prev && prev[reason] !== undefined ? prev[reason] : null;
      const r = before !== null && dt > 0 ? Math.max(0, (n - before) / dt) : null;
      rows.push(el('tr', {}, cell(reason), cell(num(n), 'num'), cell(rate(r), 'num')));
    }
    return rows;
  }

  function renderStats(s) {
    const now = performance.now();
    const prev = state.prev;
    const dt = prev ? (now - state.prevAt) / 1000 : 0;
    const ps = (k) => perSecond(s, prev, dt, k);
    const pct = (a, b) => (b > 0 ? (100 * a / b).toFixed(a / b < 0.01 ? 2 : 1) + ' %' : '');
    const failuresRising = prev && s.flushFailures > prev.flushFailures;
    const tiles = [
      tile('accepted', rate(ps('accepted')), num(s.accepted) + ' in total'),
      tile('rejected', rate(ps('rejected')), num(s.rejected) + ' in total', ps('rejected') > 0 ? 'bad' : ''),
      tile('dropped', rate(ps('dropped')), num(s.dropped) + ' in total', ps('dropped') > 0 ? 'bad' : ''),
      tile('late', rate(ps('late')), num(s.late) + ' in total'),
      tile('buffer depth', num(s.bufferDepth) + ' / ' + num(s.bufferCapacity),
        'peak ' + num(s.bufferPeak) + (s.bufferWaiting ? ', ' + num(s.bufferWaiting) + ' batches wait' : ''),
        s.bufferWaiting > 0 ? 'warn' : '', s.bufferCapacity ? s.bufferDepth / s.bufferCapacity : 0),
      tile('active series', num(s.activeSeries) + ' / ' + num(s.seriesLimit), pct(s.activeSeries, s.seriesLimit)
        + ' of the limit', s.activeSeries >= s.seriesLimit ? 'bad' : '',
        s.seriesLimit ? s.activeSeries / s.seriesLimit : 0),
      tile('open windows', num(s.openWindows), 'in memory, still filling'),
      tile('pending windows', num(s.pendingWindows) + ' / ' + num(s.pendingLimit),
        'closed, waiting for storage' + (s.spoolLimitBytes > 0 ? '; ' + num(s.spoolWindows) + ' spooled' : ''),
        s.ingestPaused ? 'bad' : (s.pendingWindows > 0 && s.flushLagMs > 10e3 ? 'warn' : ''),
        s.pendingLimit ? s.pendingWindows / s.pendingLimit : 0),
      tile('windows stored', rate(ps('flushedWindows')), num(s.flushedWindows) + ' in total'),
      tile('flush failures', num(s.flushFailures), failuresRising ? 'failing now' : 'none since the last sample',
        failuresRising ? 'bad' : ''),
      tile('flush lag', duration(s.flushLagMs), 'since storage last held every closed window',
        s.flushLagMs > 10e3 ? 'warn' : ''),
      tile('connections', num(s.connections), num(s.connectionsRefused) + ' refused, '
        + num(s.connectionsClosed) + ' closed by the server'),
    ];
    $('tiles').replaceChildren(...tiles);
    fillRows($('rejects').tBodies[0], byReasonRows(s.rejectedByReason, prev && prev.rejectedByReason, dt), 3, 'none');
    fillRows($('drops').tBodies[0], byReasonRows(s.droppedByReason, prev && prev.droppedByReason, dt), 3, 'none');
    state.prev = s;
    state.prevAt = now;
    if (s.windowMs) state.windowMs = s.windowMs;
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  }

  let healthBusy = false;

  async function refreshHealth() {
    if (healthBusy) return;
    healthBusy = true;
    try {
      const [ready, stats] = await Promise.allSettled([api('/readyz', [503]), api('/api/v1/stats')]);
      if (ready.status === 'rejected' && ready.reason instanceof Unreachable) {
        showUnreachable();
        return;
      }
      clearAlert('unreachable');
      body.dataset.health = 'ok';
      $('tiles').classList.remove('stale');
      if (ready.status === 'fulfilled' && ready.value) {
        const r = ready.value;
        setBadge(r.status, r.status, r.reason || '');
      } else {
        report('readyz', 'Reading readiness', ready.reason);
      }
      if (stats.status === 'fulfilled') {
        clearAlert('stats');
        renderStats(stats.value);
        body.dataset.stats = 'loaded';
      } else {
        report('stats', 'Reading /api/v1/stats', stats.reason);
      }
    } finally {
      healthBusy = false;
    }
  }

  // ---- metrics and cardinality --------------------------------------------------------------------------------

  function chartLink(name) {
    return el('a', { href: '?metric=' + encodeURIComponent(name) }, name);
  }

  function renderMetrics() {
    const all = state.metrics || [];
    const f = $('metric-filter').value.trim().toLowerCase();
    const shown = all.filter((m) => !f || m.metric.toLowerCase().includes(f));
    const rows = shown.slice(0, 1000).map((m) => el('tr', { 'data-metric': m.metric },
      el('td', {}, chartLink(m.metric)), cell(num(m.series), 'num'), cell(num(m.activeSeries), 'num')));
    fillRows($('metrics').tBodies[0], rows, 3, all.length ? 'no metric matches the filter' : 'no metric yet: '
      + 'send points to the TCP port or POST /api/v1/points');
    $('metrics-count').textContent = (f ? shown.length + ' of ' : '') + all.length + ' metrics'
      + (shown.length > 1000 ? ' (the first 1000 are listed)' : '');
  }

  function renderCardinality(c) {
    const share = (n, of) => (of > 0 ? (100 * n / of).toFixed(n / of < 0.01 ? 2 : 1) + ' %' : '');
    $('budget').textContent = num(c.activeSeries) + ' active series of a limit of ' + num(c.limit) + ' ('
      + share(c.activeSeries, c.limit) + '); ' + num(c.refused) + ' points refused by it. At most '
      + num(c.limitPerMetric) + ' series per metric; ' + num(c.refusedByMetricLimit) + ' points refused by that.';
    const top = (c.metrics || []).slice(0, 10);
    const max = top.length ? top[0].activeSeries : 0;
    const rows = top.map((m) => {
      const bar = el('span', { class: 'bar', 'aria-hidden': 'true' });
      bar.style.width = (max ? Math.max(1, 120 * m.activeSeries / max) : 0) + 'px';
      return el('tr', {}, el('td', {}, chartLink(m.metric)), cell(num(m.activeSeries), 'num'),
        el('td', {}, bar, ' ' + share(m.activeSeries, c.limitPerMetric) + ' of the per-metric limit'));
    });
    fillRows($('heaviest').tBodies[0], rows, 3, 'no active series');
  }

  let listBusy = false;

  async function refreshLists() {
    if (listBusy) return;
    listBusy = true;
    try {
      const [m, c] = await Promise.allSettled([api('/api/v1/metrics'), api('/api/v1/cardinality')]);
      if (m.status === 'fulfilled') {
        clearAlert('metrics');
        state.metrics = m.value.metrics || [];
        renderMetrics();
        body.dataset.metrics = 'loaded';
      } else {
        report('metrics', 'Listing the metrics', m.reason);
      }
      if (c.status === 'fulfilled') {
        clearAlert('cardinality');
        renderCardinality(c.value);
      } else {
        report('cardinality', 'Reading the cardinality', c.reason);
      }
    } finally {
      listBusy = false;
    }
  }

  $('metric-filter').addEventListener('input', renderMetrics);

  // ---- the chart of one metric --------------------------------------------------------------------------------

  const chart = {
    range: params.get('range') || '1h',
    from: params.get('from'),
    to: params.get('to'),
    stat: params.get('stat') || 'mean',
    resolution: params.get('resolution') || 'auto',
    groupBy: params.get('groupBy') || '',
    tags: params.getAll('tag').filter((t) => t.indexOf(':') > 0),
  };

  function chartUrl() {
    const p = new URLSearchParams();
    p.set('metric', metric);
    p.set('range', chart.range);
    if (chart.range === 'custom') {
      if (chart.from) p.set('from', chart.from);
      if (chart.to) p.set('to', chart.to);
    }
    p.set('stat', chart.stat);
    if (chart.resolution !== 'auto') p.set('resolution', chart.resolution);
    if (chart.groupBy) p.set('groupBy', chart.groupBy);
    for (const t of chart.tags) p.append('tag', t);
    return '?' + p.toString();
  }

  /** The time range asked for, in epoch ms; custom bounds come as epoch ms or anything Date parses. */
  function timeRange() {
    if (chart.range === 'custom') {
      const parse = (v) => (/^\d+$/.test(v || '') ? Number(v) : Date.parse(v));
      const to = chart.to ? parse(chart.to) : Date.now();
      const from = chart.from ? parse(chart.from) : to - 3600e3;
      return { from, to };
    }
    const to = Date.now();
    return { from: to - (RANGES[chart.range] || RANGES['1h']), to };
  }

  /** Steps that are whole multiples of the window, so the server can merge windows into them. */
  function stepsFor(windowMs) {
    const steps = NICE_STEPS_MS.filter((s) => s >= windowMs && s % windowMs === 0);
    return steps.length ? steps : [windowMs];
  }

  /**
   * The coarsest resolution needed for the chart to stay readable: about one window per 4 pixels, at most 400. The
   * server merges windows into it (counts add, quantiles from merged sketches); nothing is sampled.
   */
  function autoResolution(spanMs, windowMs) {
    const width = $('chart').clientWidth || 1000;
    const target = Math.max(60, Math.min(400, Math.floor(width / 4)));
    const steps = stepsFor(windowMs);
    for (const s of steps) {
      if (spanMs / s <= target) return s;
    }
    const last = steps[steps.length - 1];
    return Math.ceil(spanMs / target / last) * last;
  }

  function toLocalInput(ms) {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
    return d.toISOString().slice(0, 19);
  }

  function syncControls() {
    $('range').value = chart.range;
    for (const c of document.querySelectorAll('.control.custom')) c.hidden = chart.range !== 'custom';
    if (chart.range === 'custom') {
      const r = timeRange();
      if (isFinite(r.from)) $('from').value = toLocalInput(r.from);
      if (isFinite(r.to)) $('to').value = toLocalInput(r.to);
    }
    $('stat').value = chart.stat;
    $('group-by').value = chart.groupBy;
    renderFilters();
  }

  function renderResolutionOptions(spanMs) {
    const sel = $('resolution');
    const windowMs = state.windowMs;
    const auto = autoResolution(spanMs, windowMs);
    const opts = [el('option', { value: 'auto' }, 'auto (' + durationParam(auto) + ')')];
    for (const s of stepsFor(windowMs)) {
      if (spanMs / s <= 5000) opts.push(el('option', { value: durationParam(s) }, durationParam(s)));
    }
    sel.replaceChildren(...opts);
    sel.value = [...sel.options].some((o) => o.value === chart.resolution) ? chart.resolution : 'auto';
    return auto;
  }

  function renderFilters() {
    const chips = chart.tags.map((t) => {
      const b = el('button', { type: 'button', class: 'chip', 'aria-label': 'remove filter ' + t.replace(':', '=') },
        t.replace(':', '=') + ' ×');
      b.addEventListener('click', () => {
        chart.tags = chart.tags.filter((x) => x !== t);
        applyChart();
        $('filter-value').focus();
      });
      return b;
    });
    $('filters').replaceChildren(...chips);
  }

  function renderTagKeys() {
    const rows = state.tagKeys.map((k) => el('tr', {}, cell(k.key), cell(num(k.distinctValues), 'num')));
    fillRows($('tag-keys').tBodies[0], rows, 2, 'no active series, or no tags');
    const keys = new Set(state.tagKeys.map((k) => k.key));
    for (const s of state.seriesTags) for (const k of Object.keys(s)) keys.add(k);
    const sorted = [...keys].sort();
    $('group-by').replaceChildren(el('option', { value: '' }, 'one per series'),
      ...sorted.map((k) => el('option', { value: k }, 'grouped by ' + k)));
    if (chart.groupBy && !keys.has(chart.groupBy)) {
      $('group-by').append(el('option', { value: chart.groupBy }, 'grouped by ' + chart.groupBy));
    }
    $('group-by').value = chart.groupBy;
    $('filter-key').replaceChildren(...sorted.map((k) => el('option', { value: k }, k)));
    renderFilterValues();
  }

  function renderFilterValues() {
    const key = $('filter-key').value;
    const values = new Set();
    for (const s of state.seriesTags) if (s[key] !== undefined) values.add(s[key]);
    $('filter-values').replaceChildren(...[...values].sort().slice(0, 500).map((v) => el('option', { value: v })));
  }

  $('filter-key').addEventListener('change', renderFilterValues);

  function addFilter() {
    const k = $('filter-key').value;
    const v = $('filter-value').value;
    if (!k) return;
    const t = k + ':' + v;
    if (!chart.tags.includes(t)) chart.tags.push(t);
    $('filter-value').value = '';
    applyChart();
  }

  $('filter-add').addEventListener('click', addFilter);
  $('filter-value').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      addFilter();
    }
  });

  function readControls() {
    chart.range = $('range').value;
    if (chart.range === 'custom') {
      const f = Date.parse($('from').value);
      const t = Date.parse($('to').value);
      chart.from = isFinite(f) ? String(f) : null;
      chart.to = isFinite(t) ? String(t) : null;
    }
    chart.stat = $('stat').value;
    chart.resolution = $('resolution').value;
    chart.groupBy = $('group-by').value;
  }

  function applyChart() {
    readControls();
    history.replaceState(null, '', chartUrl());
    syncControls();
    refreshChart();
  }

  $('chart-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyChart();
  });
  for (const id of ['stat', 'resolution', 'group-by']) $(id).addEventListener('change', applyChart);
  $('range').addEventListener('change', () => {
    const custom = $('range').value === 'custom';
    if (custom && chart.range !== 'custom') {
      const r = timeRange();
      chart.range = 'custom';
      chart.from = String(r.from);
      chart.to = String(r.to);
      syncControls();
      $('from').focus();
      return;
    }
    applyChart();
  });

  function lineStats(s, stat) {
    let points = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const w of s.windows) {
      points += w.count;
      if (w.sum !== null) sum += w.sum;
      if (w.min !== null) min = Math.min(min, w.min);
      if (w.max !== null) max = Math.max(max, w.max);
    }
    const last = s.windows[s.windows.length - 1];
    return { points, min, max, mean: points ? sum / points : null, p99: last ? last.p99 : null, stat };
  }

  function drawChart(answer, from, to, resolution) {
    const all = answer.series || [];
    const lines = all.map((s) => ({ s, total: s.windows.reduce((n, w) => n + w.count, 0) }))
      .sort((a, b) => b.total - a.total).slice(0, MAX_LINES).map((x) => x.s)
      .sort((a, b) => tagsLabel(a.tags).localeCompare(tagsLabel(b.tags)));
    const starts = new Set();
    const open = new Map();
    for (const s of lines) {
      for (const w of s.windows) {
        starts.add(w.start);
        if (!w.complete) open.set(w.start, Math.max(open.get(w.start) || 0, w.end));
      }
    }
    const xs = [...starts].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const data = [xs.map((x) => x / 1000)];
    for (const s of lines) {
      const ys = new Array(xs.length).fill(null);
      for (const w of s.windows) ys[index.get(w.start)] = w[chart.stat];
      data.push(ys);
    }
    const info = [];
    info.push(all.length + (chart.groupBy ? (all.length === 1 ? ' group' : ' groups') : ' series') + ', ' + xs.length + ' windows of '
      + durationParam(resolution) + (resolution > state.windowMs ? ' (each merged from ' + (resolution / state.windowMs)
      + ' windows of ' + durationParam(state.windowMs) + ' by the server)' : ''));
    if (all.length > lines.length) {
      info.push('showing the ' + lines.length + ' with the most points; group by a tag or add a filter to see the rest');
    }
    if (open.size) info.push(open.size + ' open windows');
    $('chart-info').textContent = info.join('; ') + '.';

    const box = $('chart');
    // A refresh keeps the lines hidden from the legend hidden, and the focus on the legend entry that had it.
    const hidden = new Set();
    let focused = -1;
    if (state.plot) {
      state.plot.series.forEach((s, i) => { if (i > 0 && !s.show) hidden.add(s.label); });
      focused = [...box.querySelectorAll('.u-legend .u-series')].indexOf(document.activeElement);
      state.plot.destroy();
      state.plot = null;
    }
    box.replaceChildren();
    renderSeriesTable(lines);
    if (!lines.length) {
      box.append(el('div', { class: 'empty' }, 'No windows of ' + metric + ' in this range'
        + (chart.tags.length ? ' with these tag filters' : '') + '.'));
      body.dataset.chart = 'empty';
      return;
    }
    const openSpans = [...open.entries()].map(([s, e]) => [s / 1000, e / 1000]);
    const narrow = window.innerWidth < 600;
    const opts = {
      width: box.clientWidth || 800,
      height: narrow ? 280 : 380,
      scales: { x: { time: true, min: from / 1000, max: to / 1000 } },
      series: [{ label: 'time' }].concat(lines.map((s, i) => ({
        label: tagsLabel(s.tags),
        show: !hidden.has(tagsLabel(s.tags)),
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        dash: i >= COLORS.length ? [6, 3] : undefined,
        spanGaps: false,
        points: { size: 5 },
        value: (u, v) => num(v),
      }))),
      axes: [{}, { size: 64, values: (u, vals) => vals.map((v) => num(v)) }],
      legend: { live: true },
      hooks: {
        drawAxes: [(u) => shadeOpen(u, openSpans)],
      },
    };
    state.plot = new uPlot(opts, data, box);
    makeLegendKeyboardFriendly(box);
    const rows = box.querySelectorAll('.u-legend .u-series');
    if (focused > 0 && focused < rows.length) rows[focused].focus();
    body.dataset.chart = 'drawn';
    body.dataset.draws = String(Number(body.dataset.draws || 0) + 1);
  }

  /** Shades the windows that are still open, under the lines. */
  function shadeOpen(u, spans) {
    const ctx = u.ctx;
    const top = u.bbox.top;
    const height = u.bbox.height;
    ctx.save();
    ctx.fillStyle = 'rgba(122, 74, 0, 0.14)';
    for (const [s, e] of spans) {
      const x0 = Math.max(u.bbox.left, u.valToPos(s, 'x', true));
      const x1 = Math.min(u.bbox.left + u.bbox.width, u.valToPos(e, 'x', true));
      if (x1 > x0) ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
    }
    ctx.restore();
  }

  /** The legend toggles a line on click; this lets Tab reach each entry and Enter or Space toggle it. */
  function makeLegendKeyboardFriendly(box) {
    const rows = box.querySelectorAll('.u-legend .u-series');
    rows.forEach((row, i) => {
      if (i === 0) return;
      const label = row.querySelector('th');
      if (!label) return;
      row.tabIndex = 0;
      row.setAttribute('role', 'button');
      row.setAttribute('aria-label', 'show or hide ' + label.textContent);
      row.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          label.click();
        }
      });
    });
  }

  function renderSeriesTable(lines) {
    const rows = lines.map((s, i) => {
      const st = lineStats(s);
      const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      sw.style.background = COLORS[i % COLORS.length];
      return el('tr', {}, el('td', { class: 'series-name' }, sw, tagsLabel(s.tags)), cell(num(s.windows.length), 'num'),
        cell(num(st.points), 'num'), cell(num(st.min), 'num'), cell(num(st.mean), 'num'), cell(num(st.max), 'num'),
        cell(num(st.p99), 'num'));
    });
    fillRows($('series-table').tBodies[0], rows, 7, 'none');
  }

  let chartBusy = false;

  async function refreshChart() {
    if (chartBusy) return;
    chartBusy = true;
    try {
      if (!state.windowMs) {
        const s = await api('/api/v1/stats');
        state.windowMs = s.windowMs || 10000;
      }
      const { from, to } = timeRange();
      if (!isFinite(from) || !isFinite(to) || to <= from) {
        setAlert('chart', 'The time range is not valid', 'Choose a "from" before the "to".');
        return;
      }
      const auto = renderResolutionOptions(to - from);
      const resolution = chart.resolution === 'auto' ? auto : parseResolution(chart.resolution, auto);
      const alignedFrom = Math.floor(from / resolution) * resolution;
      const q = new URLSearchParams();
      q.set('metric', metric);
      q.set('from', String(alignedFrom));
      q.set('to', String(to));
      q.set('resolution', durationParam(resolution));
      if (chart.groupBy) q.set('groupBy', chart.groupBy);
      for (const t of chart.tags) q.append('tag', t);
      const answer = await api('/api/v1/aggregates?' + q.toString());
      clearAlert('chart');
      drawChart(answer, alignedFrom, to, resolution);
    } catch (e) {
      report('chart', 'The chart query', e);
      if (e instanceof HttpError && e.status !== 401) body.dataset.chart = 'error';
    } finally {
      chartBusy = false;
    }
  }

  function parseResolution(text, fallback) {
    const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
    if (!m) return fallback;
    return Number(m[1]) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2]];
  }

  async function loadMetricInfo() {
    const enc = encodeURIComponent(metric);
    const [m, c, s] = await Promise.allSettled([api('/api/v1/metrics'), api('/api/v1/cardinality?metric=' + enc),
      api('/api/v1/series?metric=' + enc + '&limit=1000')]);
    if (m.status === 'fulfilled') {
      const known = (m.value.metrics || []).some((x) => x.metric === metric);
      if (!known) {
        setAlert('unknown', 'Unknown metric "' + metric + '"',
          'Meterline holds no series of this metric, in memory or in storage. Check the name in the metrics list below.');
        body.dataset.chart = 'unknown';
        state.metrics = m.value.metrics || [];
        renderMetrics();
        return false;
      }
      clearAlert('unknown');
    } else {
      report('metrics', 'Listing the metrics', m.reason);
      if (m.reason instanceof HttpError && m.reason.status === 401) return false;
    }
    state.tagKeys = c.status === 'fulfilled' ? (c.value.tagKeys || []) : [];
    state.seriesTags = s.status === 'fulfilled' ? (s.value.series || []).map((x) => x.tags) : [];
    renderTagKeys();
    return true;
  }

  async function startChart() {
    try {
      if (await loadMetricInfo()) await refreshChart();
    } catch (e) {
      report('chart', 'Loading the metric', e);
    }
  }

  // ---- start --------------------------------------------------------------------------------------------------

  function refreshAll() {
    refreshHealth();
    if (metric) startChart();
    else refreshLists();
  }

  $('health-every').textContent = '(every ' + HEALTH_EVERY_MS / 1000 + ' s)';
  if (metric) {
    body.dataset.view = 'chart';
    document.title = metric + ' · Meterline';
    $('chart-view').hidden = false;
    $('metrics-view').hidden = true;
    const title = $('chart-title');
    title.replaceChildren(metric + ' ', el('a', { href: '/', class: 'small' }, 'all metrics'));
    syncControls();
  }
  refreshAll();
  setInterval(refreshHealth, HEALTH_EVERY_MS);
  setInterval(() => {
    if (document.hidden || body.dataset.auth === 'needed') return;
    if (!metric) refreshLists();
    else if (chart.range !== 'custom' && ['drawn', 'empty'].includes(body.dataset.chart)) refreshChart();
  }, metric ? CHART_EVERY_MS : LIST_EVERY_MS);
  window.addEventListener('resize', () => {
    if (state.plot) state.plot.setSize({ width: $('chart').clientWidth, height: state.plot.height });
  });
}());
