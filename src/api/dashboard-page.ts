/**
 * The live dashboard at /dashboard: one self-contained page (no external assets: it works on a
 * gateway with no internet) that polls /dashboard/data every second and draws, on canvases, calls
 * now and answered per second, wrap-up steps pending and failing, agents by state per contact
 * center, the live calls' audio quality now (jitter, loss, late packets, queued engine audio and
 * pacer lateness, per call and as charts of the worst call), and the recent calls' final counters,
 * with links to each call's record.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vagw dashboard</title>
<style>
body{font:14px system-ui,sans-serif;margin:16px;background:#fafafa;color:#222}
h1{font-size:18px;margin:0 0 12px}
.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}
.card h2{font-size:13px;margin:0 0 6px;color:#555}
.big{font-size:26px;font-weight:600}
canvas{width:100%;height:120px}
table{border-collapse:collapse;width:100%;font-size:12px}
td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left}
.bad{color:#b00}
</style></head>
<body>
<h1>vagw <span id="gw"></span> <small id="at"></small></h1>
<div class="grid">
  <div class="card"><h2>Calls now</h2><div class="big" id="active">0</div><canvas id="c-active" width="400" height="120"></canvas></div>
  <div class="card"><h2>Calls answered per second</h2><div class="big" id="cps">0</div><canvas id="c-cps" width="400" height="120"></canvas></div>
  <div class="card"><h2>Wrap-up steps pending / failing</h2><div class="big"><span id="pending">0</span> / <span id="failing" class="bad">0</span></div><canvas id="c-pending" width="400" height="120"></canvas></div>
</div>
<div class="grid" style="margin-top:12px">
  <div class="card"><h2>Agents by state, per contact center</h2><table id="agents"><thead><tr><th>contact center</th><th>ready</th><th>busy</th><th>not ready</th></tr></thead><tbody></tbody></table></div>
  <div class="card"><h2>Media plane</h2><table id="media"><tbody></tbody></table></div>
  <div class="card"><h2>Calls ended, by reason</h2><table id="ended"><tbody></tbody></table></div>
</div>
<div class="grid" style="margin-top:12px">
  <div class="card"><h2>Live calls: worst jitter (ms)</h2><div class="big" id="jit">0</div><canvas id="c-jit" width="400" height="120"></canvas></div>
  <div class="card"><h2>Live calls: packets lost per second</h2><div class="big" id="lps">0</div><canvas id="c-lps" width="400" height="120"></canvas></div>
  <div class="card"><h2>Live calls: worst pacer lateness (ms)</h2><div class="big" id="plate">0</div><canvas id="c-plate" width="400" height="120"></canvas></div>
</div>
<div class="card" style="margin-top:12px"><h2>Live calls: audio quality now</h2>
<table id="live"><thead><tr><th>call</th><th>agent</th><th>packets in</th><th>out</th><th>lost</th><th>late</th><th>jitter ms</th><th>queued ms</th><th>pacer late ms</th></tr></thead><tbody></tbody></table></div>
<div class="card" style="margin-top:12px"><h2>Recent calls: audio quality (final counters)</h2>
<table id="calls"><thead><tr><th>call</th><th>agent</th><th>ended by</th><th>duration</th><th>packets in</th><th>out</th><th>lost</th><th>late</th><th>dropped</th></tr></thead><tbody></tbody></table></div>
<script>
const N = 120, series = { active: [], cps: [], pending: [], jit: [], lps: [], plate: [] };
let last;
function push(name, v) { const s = series[name]; s.push(v); if (s.length > N) s.shift(); }
function draw(id, data, color) {
  const c = document.getElementById(id), g = c.getContext('2d'), w = c.width, h = c.height;
  g.clearRect(0, 0, w, h);
  const max = Math.max(1, ...data);
  g.strokeStyle = '#ccc'; g.beginPath(); g.moveTo(0, h - 1); g.lineTo(w, h - 1); g.stroke();
  g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
  data.forEach((v, i) => { const x = (i / (N - 1)) * w, y = h - 4 - (v / max) * (h - 10); i ? g.lineTo(x, y) : g.moveTo(x, y); });
  g.stroke();
  g.fillStyle = '#888'; g.font = '11px sans-serif'; g.fillText(String(max), 4, 12);
}
function rows(tbody, list) {
  tbody.textContent = '';
  for (const cells of list) {
    const tr = document.createElement('tr');
    for (const cell of cells) {
      const td = document.createElement('td');
      if (cell && typeof cell === 'object') { const a = document.createElement('a'); a.href = cell.href; a.textContent = cell.text; td.append(a); }
      else td.textContent = String(cell);
      tr.append(td);
    }
    tbody.append(tr);
  }
}
async function tick() {
  try {
    const d = await (await fetch('/dashboard/data', { cache: 'no-store' })).json();
    const cps = last ? Math.max(0, (d.answered - last.answered) / ((d.at - last.at) / 1000)) : 0;
    const lostNow = d.liveCalls.reduce((n, c) => n + c.lost, 0);
    const lps = last && last.lostNow !== undefined ? Math.max(0, (lostNow - last.lostNow) / ((d.at - last.at) / 1000)) : 0;
    d.lostNow = lostNow;
    last = d;
    const jit = Math.max(0, ...d.liveCalls.map((c) => c.jitterMs)), plate = Math.max(0, ...d.liveCalls.map((c) => c.pacerLateMs));
    push('active', d.activeCalls); push('cps', Math.round(cps * 10) / 10); push('pending', d.wrapUp.pending);
    push('jit', jit); push('lps', Math.round(lps)); push('plate', plate);
    document.getElementById('jit').textContent = jit.toFixed(1);
    document.getElementById('lps').textContent = Math.round(lps);
    document.getElementById('plate').textContent = plate.toFixed(2);
    draw('c-jit', series.jit, '#a2a');
    draw('c-lps', series.lps, '#b00');
    draw('c-plate', series.plate, '#555');
    rows(document.querySelector('#live tbody'), d.liveCalls.map((c) => [{ href: '/calls/' + encodeURIComponent(c.callId), text: c.callId.slice(0, 18) }, c.agentId, c.packetsIn, c.packetsOut, c.lost, c.late, c.jitterMs, c.queuedMs, c.pacerLateMs]));
    document.getElementById('gw').textContent = d.gateway;
    document.getElementById('at').textContent = new Date(d.at).toLocaleTimeString();
    document.getElementById('active').textContent = d.activeCalls;
    document.getElementById('cps').textContent = (Math.round(cps * 10) / 10).toFixed(1);
    document.getElementById('pending').textContent = d.wrapUp.pending;
    document.getElementById('failing').textContent = d.wrapUp.failures;
    draw('c-active', series.active, '#2a6');
    draw('c-cps', series.cps, '#26a');
    draw('c-pending', series.pending, '#a62');
    rows(document.querySelector('#agents tbody'), Object.entries(d.agents).map(([cc, s]) => [cc, s.ready || 0, s.busy || 0, s['not-ready'] || 0]));
    rows(document.querySelector('#media tbody'), Object.entries(d.media).map(([k, v]) => [k, v]));
    rows(document.querySelector('#ended tbody'), Object.entries(d.ended).map(([k, v]) => [k, v]));
    rows(document.querySelector('#calls tbody'), d.recentCalls.map((c) => [{ href: '/calls/' + encodeURIComponent(c.callId), text: c.callId.slice(0, 18) }, c.agentId, c.endedBy || '', (c.durationMs / 1000).toFixed(1) + ' s', c.media.packetsIn, c.media.packetsOut, c.media.lost, c.media.late, c.media.packetsDropped]));
    document.body.dataset.ticks = String((Number(document.body.dataset.ticks) || 0) + 1);
  } catch (e) { document.getElementById('at').textContent = 'no data: ' + e.message; }
}
tick(); setInterval(tick, 1000);
</script></body></html>
`;
