// The dashboard page: one EventSource (/dashboard/api/events), a sample a second, uPlot charts.
// Plain browser script, no build step; every text from the server goes through esc().
(() => {
  const COLORS = ['#2563eb', '#d97706', '#059669', '#9333ea', '#dc2626', '#0891b2', '#65a30d', '#db2777'];
  const MAX_POINTS = 300;
  const FAILED = '#c62828';
  const page = { history: [], timeline: [], state: null, reports: [] };
  const charts = new Map();
  const colorOf = new Map();

  const $ = (id) => document.getElementById(id);
  const esc = (s) =>
    String(s ?? '').replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  const fmt = (x, digits = 1) => (x === null || x === undefined ? '-' : Number(x).toFixed(digits));
  const color = (model) => {
    if (!colorOf.has(model)) colorOf.set(model, COLORS[colorOf.size % COLORS.length]);
    return colorOf.get(model);
  };
  const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

  function modelNames() {
    return (page.state?.models ?? []).map((m) => m.name);
  }

  function chart(id, series, values, opts = {}) {
    const el = $(id);
    const key = series.map((s) => s.label + (s.dash ? '-' : '')).join('|');
    const data = [page.history.map((s) => s.t / 1000), ...series.map((s) => page.history.map(s.value))];
    let c = charts.get(id);
    if (c && c.key !== key) {
      c.plot.destroy();
      c = undefined;
    }
    const width = Math.max(200, el.clientWidth);
    if (!c) {
      const plot = new uPlot(
        {
          width,
          height: 180,
          legend: { live: false },
          scales: { y: { range: opts.range ?? ((_u, _min, max) => [0, Math.max(1, max * 1.1)]) } },
          axes: [{}, { size: 50 }],
          series: [
            {},
            ...series.map((s) => ({
              label: s.label,
              stroke: s.color,
              width: 1.5,
              dash: s.dash ? [5, 4] : undefined,
              spanGaps: false,
            })),
          ],
        },
        data,
        el,
      );
      c = { plot, key, width };
      charts.set(id, c);
    } else {
      if (Math.abs(c.width - width) > 4) {
        c.plot.setSize({ width, height: 180 });
        c.width = width;
      }
      c.plot.setData(data);
    }
    if (values) values(c);
  }

  function renderCharts() {
    // Models with no instances (failed, unloaded) have no figures to draw.
    const names = modelNames().filter(
      (n) =>
        page.state.models.find((m) => m.name === n)?.instances.length ||
        page.history.some((s) => s.models[n]?.inferences),
    );
    const per = (field, dash) =>
      names.map((n) => ({
        label: dash ? `${n} ${dash}` : n,
        color: color(n),
        dash: Boolean(dash),
        value: (s) => s.models[n]?.[field] ?? null,
      }));
    chart('chart-throughput', per('inferences'));
    chart('chart-latency', [...per('p50Ms'), ...per('p99Ms', 'p99')]);
    chart('chart-queue', per('queued'));
    chart('chart-split', [...per('computeMs'), ...per('queueMs', 'queue')]);
    const cores = page.history.at(-1)?.cpu.length ?? 0;
    chart(
      'chart-cpu',
      Array.from({ length: cores }, (_, i) => ({
        label: `core ${i}`,
        color: COLORS[i % COLORS.length],
        value: (s) => (s.cpu[i] === undefined ? null : s.cpu[i] * 100),
      })),
      null,
      { range: () => [0, 100] },
    );
    chart('chart-memory', [
      {
        label: 'used by all, MB',
        color: COLORS[0],
        value: (s) => (s.memory.totalBytes - s.memory.freeBytes) / 2 ** 20,
      },
      { label: 'server RSS, MB', color: COLORS[1], value: (s) => s.memory.rssBytes / 2 ** 20 },
    ]);
    const m = page.history.at(-1)?.memory;
    if (m)
      $('memory').textContent =
        `${mb(m.totalBytes - m.freeBytes)} of ${mb(m.totalBytes)} used; server process ${mb(m.rssBytes)}`;
  }

  function instancesText(m) {
    const groups = new Map();
    for (const i of m.instances) {
      const k = `${i.device} ${i.host}`;
      groups.set(k, (groups.get(k) ?? 0) + 1);
    }
    return [...groups].map(([k, n]) => `${n} on ${k}`).join(', ') || '0';
  }

  function batchingText(m) {
    if (!m.batching) return m.maxBatchSize > 0 ? `max ${m.maxBatchSize}, no dynamic batching` : 'none';
    const b = m.batching;
    return `dynamic, up to ${b.maxBatchSize}${b.preferred.length ? `, preferred ${b.preferred.join('/')}` : ''}, \
delay ${fmt(b.delayMs, 1)} ms`;
  }

  function tuningText(m) {
    return m.tuning ? `${m.tuning.state}: ${m.tuning.configuration}` : (m.source ?? '');
  }

  function renderModels() {
    const last = page.history.at(-1);
    const rows = (page.state?.models ?? []).map((m) => {
      const s = last?.models[m.name];
      const states = m.instances.filter((i) => i.state !== 'ready').map((i) => `${i.name} ${i.state}`);
      const queue = m.queueLimit === null || m.queueLimit === 0 ? `${m.queued}` : `${m.queued} / ${m.queueLimit}`;
      return `<tr data-model="${esc(m.name)}">
<td data-label="model"><b>${esc(m.name)}</b> ${m.version ? `<span class="small">v${esc(m.version)}</span>` : ''}</td>
<td data-label="state"><span class="badge ${esc(m.state)}">${esc(m.state)}</span>
${m.restarting ? '<span class="badge warn">RESTARTING</span>' : ''}
${m.reason ? `<div class="reason">${esc(m.reason)}</div>` : ''}
${states.length ? `<div class="small">${esc(states.join(', '))}</div>` : ''}</td>
<td data-label="instances">${esc(instancesText(m))}</td>
<td data-label="threads">${m.threads}</td>
<td data-label="batching" class="small">${esc(batchingText(m))}</td>
<td data-label="inf/s" class="rate">${fmt(s?.inferences)}</td>
<td data-label="p50 ms" class="p50">${fmt(s?.p50Ms, 2)}</td>
<td data-label="p99 ms" class="p99">${fmt(s?.p99Ms, 2)}</td>
<td data-label="queue" class="queue">${esc(queue)}${m.queueFull ? ' <span class="badge bad">FULL</span>' : ''}\
${s?.refused ? `<div class="small">${fmt(s.refused)} refused/s</div>` : ''}</td>
<td data-label="tuning" class="small">${esc(tuningText(m))}</td>
</tr>`;
    });
    $('models').tBodies[0].innerHTML = rows.join('');
  }

  function renderAlerts() {
    const out = [];
    for (const m of page.state?.models ?? []) {
      if (m.state === 'UNAVAILABLE' && m.reason !== 'unloaded')
        out.push(`<div class="alert bad">${esc(m.name)} failed: ${esc(m.reason)}</div>`);
      if (m.restarting)
        out.push(
          `<div class="alert warn">${esc(m.name)}: an instance is restarting (${esc(
            m.instances
              .filter((i) => i.state !== 'ready')
              .map((i) => `${i.name} ${i.state}`)
              .join(', '),
          )})${
            m.lastCrash && page.state.now - m.lastCrash.t < 60_000
              ? ` after ${esc(m.lastCrash.instance)} crashed: ${esc(m.lastCrash.reason)}`
              : ''
          }</div>`,
        );
      if (m.queueFull)
        out.push(
          `<div class="alert bad">${esc(m.name)}: queue full (${m.queued} of ${m.queueLimit}); ` +
            'new requests are refused</div>',
        );
      for (const i of m.instances)
        if (i.state === 'failed') out.push(`<div class="alert bad">${esc(i.name)} failed: ${esc(i.reason)}</div>`);
    }
    $('alerts').innerHTML = out.join('');
  }

  function renderPlacement() {
    const st = page.state;
    if (!st) return;
    const devices = st.devices.length ? st.devices.map((d) => d.device) : [];
    for (const m of st.models) for (const i of m.instances) if (!devices.includes(i.device)) devices.push(i.device);
    const boxes = devices.map((id) => {
      const d = st.devices.find((x) => x.device === id);
      const chips = st.models.flatMap((m) =>
        m.instances
          .filter((i) => i.device === id)
          .map(
            (i) =>
              `<span class="instance ${esc(i.state)}${i.busy ? ' busy' : ''}" \
style="background:${i.state === 'failed' ? FAILED : color(m.name)}" \
title="${esc(`${i.name}: ${i.state}, ${i.threads} thread(s), ${i.hostLabel}`)}">${esc(i.name)} \
${i.threads}t${i.state === 'ready' ? '' : ` ${esc(i.state)}`}</span>`,
          ),
      );
      const info = d
        ? `${d.cores ? `${d.cores} cores` : ''}${d.memoryBytes ? ` ${mb(d.memoryBytes)}` : ''}\
${d.simulated ? ' simulated' : ''}`
        : '';
      return `<div class="device${d?.simulated ? ' simulated' : ''}" data-device="${esc(id)}">
<h3>${esc(id)} <span class="small">${esc(info)}</span></h3>
<div class="small">${esc(d?.description ?? '')}</div>
<div class="instances">${chips.join('') || '<span class="small">no instances</span>'}</div></div>`;
    });
    $('placement').innerHTML = `<div class="devices">${boxes.join('')}</div>`;
    $('mode').textContent = st.mode ? `placement: ${st.mode}, ${st.cores} cores` : `${st.cores} cores`;
  }

  function renderTimeline() {
    const items = page.timeline
      .slice(-100)
      .reverse()
      .map(
        (e) => `<li data-kind="${esc(e.kind)}"><span class="small">${new Date(e.t).toLocaleTimeString()}</span>
<span class="kind">${esc(e.kind)}</span> ${e.model ? `<b>${esc(e.model)}</b> ` : ''}${esc(e.text)}
${e.reason ? `<div class="small">why: ${esc(e.reason)}</div>` : ''}</li>`,
      );
    $('timeline').innerHTML = items.join('') || '<li class="small">no changes yet</li>';
  }

  function renderReports() {
    const items = page.reports.slice(0, 30).map((r) => {
      const main = r.files.includes('index.html') ? 'index.html' : r.files[0];
      const href = (f) => `/dashboard/reports/${encodeURIComponent(r.run)}/${encodeURIComponent(f)}`;
      return `<li><a href="${href(main)}" target="_blank" rel="noopener">${esc(r.run)}</a>
<span class="small">${new Date(r.modified).toLocaleString()}: ${r.files
        .map((f) => `<a href="${href(f)}" target="_blank" rel="noopener">${esc(f)}</a>`)
        .join(' ')}</span></li>`;
    });
    $('reports').innerHTML =
      items.join('') || '<li class="small">none yet (tenancy bench writes them to .tenancy/reports)</li>';
  }

  function render(all) {
    renderModels();
    renderAlerts();
    renderCharts();
    renderPlacement();
    if (all) renderReports();
    renderTimeline();
  }

  function connect() {
    const src = new EventSource('/dashboard/api/events');
    const link = $('link');
    src.addEventListener('snapshot', (ev) => {
      const s = JSON.parse(ev.data);
      page.history = s.history;
      page.timeline = s.timeline;
      page.state = s.state;
      page.reports = s.reports;
      link.textContent = 'live';
      link.classList.remove('down');
      render(true);
    });
    src.addEventListener('reports', (ev) => {
      page.reports = JSON.parse(ev.data);
      renderReports();
    });
    src.onmessage = (ev) => {
      const u = JSON.parse(ev.data);
      page.history.push(u.sample);
      if (page.history.length > MAX_POINTS) page.history.splice(0, page.history.length - MAX_POINTS);
      page.timeline.push(...u.events);
      page.state = u.state;
      link.textContent = `live, ${new Date(u.sample.t).toLocaleTimeString()}`;
      render(false);
    };
    src.onerror = () => {
      link.textContent = 'disconnected: retrying';
      link.classList.add('down');
    };
  }

  window.addEventListener('resize', () => renderCharts());
  connect();
})();
