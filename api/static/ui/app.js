// The dispatcher's page: plain JavaScript and SVG, nothing loaded from outside this server.
// Every figure comes from /v1 with the key the user signed in with (kept for the tab only).
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const MAJOR = new Set(['motorway', 'trunk', 'primary', 'secondary']);
const state = {
  key: sessionStorage.getItem('rd-key') || '',
  me: null, county: null, points: new Map(), towns: [], job: null, plan: null,
  lines: new Map(), colours: new Map(), selected: null, changes: null,
  view: null, home: null, project: null,
};

// ---- small helpers -------------------------------------------------------------------------

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

function hhmm(s) {
  if (s === null || s === undefined) return '–';
  const m = Math.round(s / 60);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

function yuan(fen) { return (fen / 100).toLocaleString('zh-CN', { maximumFractionDigits: 2 }); }

function isoDay(d) { return d.toISOString().slice(0, 10); }

function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return isoDay(d);
}

function pointName(id) { const p = state.points.get(id); return p ? p.name : id; }

function showError(where, err) { $(where).textContent = err ? String(err.message || err) : ''; }

class ApiError extends Error {
  constructor(status, detail) { super(`${status}: ${detail}`); this.status = status; }
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.key}`, ...(options.headers || {}) };
  const res = await fetch(path, { ...options, headers });
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new ApiError(res.status, detail);
  }
  return res;
}

async function json(path, options) { return (await api(path, options)).json(); }

// A link to one of the plan's papers: the key goes in a header, so the file is fetched here.
function paperLink(href, label) {
  const a = el('a', { href, class: 'paper', text: label });
  a.addEventListener('click', async (ev) => {
    ev.preventDefault();
    try {
      const res = await api(href);
      const url = URL.createObjectURL(await res.blob());
      const save = el('a', { href: url, download: href.split('/').slice(-2).join('-') });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) { showError('app-error', err); }
  });
  return a;
}

// ---- sign-in -------------------------------------------------------------------------------

async function signIn(key) {
  state.key = key;
  try {
    state.me = await json('/v1/me');
  } catch (err) {
    state.key = '';
    sessionStorage.removeItem('rd-key');
    throw err.status === 401 ? new Error('This key is not valid (unknown or revoked).') : err;
  }
  sessionStorage.setItem('rd-key', key);
  const bound = state.me.vehicle_id || state.me.station_id;
  $('who').textContent = `${state.me.role}${bound ? ` · ${bound}` : ''} · key ${state.me.key_id}`;
  $('signin-panel').hidden = true;
  $('app').hidden = false;
  $('signout').hidden = false;
  await start();
}

function signOut() {
  sessionStorage.removeItem('rd-key');
  location.reload();
}

// ---- plans ---------------------------------------------------------------------------------

async function start() {
  const desk = state.me.role === 'dispatcher' || state.me.role === 'planner';
  $('desk').hidden = !desk;
  $('field-view').hidden = desk;
  if (desk) {
    const [net, roads] = await Promise.all([json('/v1/network/points'), json('/v1/network/roads')]);
    state.county = net.county;
    $('county').textContent = `${net.county.name} · ${net.points.length} points · roads: ${net.county.network}`;
    for (const p of net.points) state.points.set(p.point_id, p);
    state.towns = net.points.filter((p) => p.kind === 'station')
      .map((p) => ({ town_id: p.town_id, name: p.name }));
    setUpMap(net.points, roads.classes);
  }
  const list = (await json('/v1/plans')).plans.filter((p) => p.status === 'done');
  const asked = new URLSearchParams(location.search).get('plan');
  const first = list.find((p) => p.plan_id === asked) || list[0];
  $('day').value = first ? first.date : isoDay(new Date());
  await fillPlans(first ? first.plan_id : null);
}

async function fillPlans(chosen) {
  const day = $('day').value;
  const list = (await json(`/v1/plans?date=${day}`)).plans.filter((p) => p.status === 'done');
  const select = $('plan-select');
  select.replaceChildren(...list.map((p) => el('option', {
    value: p.plan_id,
    text: `${p.plan_id} · ${p.created_at.slice(11, 16)} UTC${p.version_of ? ' · re-plan' : ''}${p.released_at ? ' · released' : ''}`,
  })));
  if (!list.length) {
    select.append(el('option', { value: '', text: 'no finished plan on this day' }));
    clearPlan();
    return;
  }
  select.value = chosen && list.some((p) => p.plan_id === chosen) ? chosen : list[0].plan_id;
  await loadPlan(select.value);
}

function clearPlan() {
  state.job = null; state.plan = null;
  $('plan-facts').textContent = '';
  $('release').hidden = true;
  $('release-status').textContent = '';
}

async function loadPlan(planId) {
  showError('app-error', null);
  if (!planId) { clearPlan(); return; }
  if (state.me.role === 'driver' || state.me.role === 'station') { await loadFieldView(planId); return; }
  const [job, map] = await Promise.all([
    json(`/v1/plans/${planId}`), json(`/v1/plans/${planId}/map`),
  ]);
  state.job = job;
  state.plan = job.plan;
  state.lines = new Map(map.routes.map((r) => [r.route_id, r]));
  state.changes = job.version_of ? await json(`/v1/plans/${planId}/changes`) : null;
  const k = state.plan.kpis;
  $('plan-facts').textContent = `${state.plan.status} · ${state.plan.routes.length} routes · ` +
    `${k.parcels} parcels · ${(k.distance_m / 1000).toFixed(0)} km · ¥${yuan(k.cost_fen)} ` +
    `(¥${yuan(k.cost_per_parcel_fen)}/parcel)`;
  showRelease();
  colourRoutes();
  drawRoutes();
  fillRoutes();
  fillUnassigned();
  fillChanges();
  selectRoute(null);
  $('town-to').value = state.plan.date;
  $('town-from').value = addDays(state.plan.date, -6);
  await fillTowns();
}

function showRelease() {
  const job = state.job;
  const dispatcher = state.me.role === 'dispatcher';
  $('release').hidden = !dispatcher || Boolean(job.released_at);
  $('release-status').textContent = job.released_at
    ? `已发布 Released ${job.released_at.replace('T', ' ').slice(0, 16)} UTC`
    : '未发布 Not released: drivers and stations do not see it yet';
}

async function release() {
  try {
    const done = await json(`/v1/plans/${state.job.plan_id}/release`, { method: 'POST' });
    state.job.released_at = done.released_at;
    showRelease();
  } catch (err) { showError('app-error', err); }
}

// ---- the map -------------------------------------------------------------------------------

function setUpMap(points, roadClasses) {
  const lats = points.map((p) => p.lat);
  const lons = points.map((p) => p.lon);
  const lat0 = (Math.min(...lats) + Math.max(...lats)) / 2;
  const lon0 = (Math.min(...lons) + Math.max(...lons)) / 2;
  const k = Math.cos((lat0 * Math.PI) / 180);
  // kilometres east and south of the county's centre
  state.project = (lon, lat) => [(lon - lon0) * k * 111.32, (lat0 - lat) * 111.32];
  const xy = points.map((p) => state.project(p.lon, p.lat));
  const xs = xy.map((p) => p[0]);
  const ys = xy.map((p) => p[1]);
  const pad = 2;
  state.home = {
    x: Math.min(...xs) - pad, y: Math.min(...ys) - pad,
    w: Math.max(...xs) - Math.min(...xs) + 2 * pad, h: Math.max(...ys) - Math.min(...ys) + 2 * pad,
  };
  state.view = { ...state.home };
  const roads = $('roads');
  roads.replaceChildren();
  for (const [kind, lines] of Object.entries(roadClasses)) {
    const d = lines.map((line) => line.map(([lon, lat], i) => {
      const [x, y] = state.project(lon, lat);
      return `${i ? 'L' : 'M'}${x.toFixed(3)} ${y.toFixed(3)}`;
    }).join('')).join('');
    roads.append(svg('path', { d, class: MAJOR.has(kind) ? 'major' : 'minor', 'data-kind': kind }));
  }
  const layer = $('points');
  layer.replaceChildren();
  for (const p of points) {
    const [x, y] = state.project(p.lon, p.lat);
    const shape = p.kind === 'hub' ? svg('rect', {}) : p.kind === 'station' ? svg('rect', {}) : svg('circle', {});
    shape.setAttribute('class', `pt ${p.kind}`);
    shape.dataset.pointId = p.point_id;
    shape.dataset.x = x;
    shape.dataset.y = y;
    const title = svg('title', {});
    title.textContent = `${p.name} (${p.point_id})`;
    shape.append(title);
    layer.append(shape);
  }
  applyView();
  wireMap();
}

// Map units (km) per screen pixel; 800 px wide until the map has been laid out.
function scaleUnit() {
  const width = $('map').getBoundingClientRect().width;
  return state.view.w / (width > 0 ? width : 800);
}

function applyView() {
  const v = state.view;
  $('map').setAttribute('viewBox', `${v.x} ${v.y} ${v.w} ${v.h}`);
  const u = scaleUnit(); // km per screen pixel: markers keep their size on screen
  for (const shape of $('points').children) {
    const x = Number(shape.dataset.x);
    const y = Number(shape.dataset.y);
    if (shape.tagName === 'circle') {
      shape.setAttribute('cx', x); shape.setAttribute('cy', y); shape.setAttribute('r', 3 * u);
    } else {
      const s = (shape.classList.contains('hub') ? 14 : 9) * u;
      shape.setAttribute('x', x - s / 2); shape.setAttribute('y', y - s / 2);
      shape.setAttribute('width', s); shape.setAttribute('height', s);
      if (shape.classList.contains('station')) shape.setAttribute('transform', `rotate(45 ${x} ${y})`);
    }
  }
}

function zoom(factor, cx, cy) {
  const v = state.view;
  const px = cx === undefined ? v.x + v.w / 2 : cx;
  const py = cy === undefined ? v.y + v.h / 2 : cy;
  const w = Math.min(Math.max(v.w * factor, state.home.w / 64), state.home.w * 4);
  const f = w / v.w;
  state.view = { x: px - (px - v.x) * f, y: py - (py - v.y) * f, w, h: v.h * f };
  applyView();
}

function wireMap() {
  const map = $('map');
  map.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const box = map.getBoundingClientRect();
    const v = state.view;
    const cx = v.x + ((ev.clientX - box.left) / box.width) * v.w;
    const cy = v.y + ((ev.clientY - box.top) / box.height) * v.h;
    zoom(ev.deltaY < 0 ? 0.8 : 1.25, cx, cy);
  }, { passive: false });
  let drag = null;
  map.addEventListener('pointerdown', (ev) => {
    if (ev.target.classList && ev.target.classList.contains('route')) return;
    drag = { x: ev.clientX, y: ev.clientY, view: { ...state.view }, moved: false };
    map.setPointerCapture(ev.pointerId);
    map.classList.add('dragging');
  });
  map.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const box = map.getBoundingClientRect();
    const dx = ((ev.clientX - drag.x) / box.width) * drag.view.w;
    const dy = ((ev.clientY - drag.y) / box.height) * drag.view.h;
    state.view = { ...drag.view, x: drag.view.x - dx, y: drag.view.y - dy };
    applyView();
  });
  const end = () => { drag = null; map.classList.remove('dragging'); };
  map.addEventListener('pointerup', end);
  map.addEventListener('pointercancel', end);
  $('zoom-in').addEventListener('click', () => zoom(0.66));
  $('zoom-out').addEventListener('click', () => zoom(1.5));
  $('zoom-reset').addEventListener('click', () => { state.view = { ...state.home }; applyView(); });
  window.addEventListener('resize', applyView);
}

function colourRoutes() {
  state.colours = new Map();
  state.plan.routes.forEach((r, i) => {
    const hue = Math.round((i * 137.508) % 360);
    state.colours.set(r.route_id, `hsl(${hue} ${r.echelon === 1 ? 75 : 65}% ${r.echelon === 1 ? 38 : 45}%)`);
  });
}

function drawRoutes() {
  const layer = $('route-lines');
  layer.replaceChildren();
  // echelon 1 below echelon 2, so the station vans stay visible over the trunk runs
  const routes = [...state.plan.routes].sort((a, b) => a.echelon - b.echelon);
  for (const r of routes) {
    const line = state.lines.get(r.route_id);
    const pts = line.line.map(([lon, lat]) => state.project(lon, lat).map((v) => v.toFixed(3)).join(','));
    const poly = svg('polyline', {
      points: pts.join(' '), class: `route e${r.echelon}`, stroke: state.colours.get(r.route_id),
      'data-route-id': r.route_id,
    });
    const title = svg('title', {});
    title.textContent = `${r.route_id} · ${r.vehicle_id} · echelon ${r.echelon}`;
    poly.append(title);
    poly.addEventListener('click', () => selectRoute(r.route_id));
    layer.append(poly);
  }
}

// ---- routes and stops ----------------------------------------------------------------------

function changeOf(routeId) {
  if (!state.changes) return null;
  return state.changes.routes.find((c) => c.new_route_id === routeId) || null;
}

// A colour swatch (set through the style object: the page's CSP forbids style attributes).
function chip(colour) {
  const node = el('span', { class: 'chip' });
  node.style.background = colour;
  return node;
}

function fillRoutes() {
  const rows = state.plan.routes.map((r) => {
    const change = changeOf(r.route_id);
    const badge = change && change.status !== 'unchanged'
      ? el('span', { class: `badge ${change.status}`, text: change.status }) : '';
    return el('tr', { 'data-route-id': r.route_id, onclick: () => selectRoute(r.route_id) },
      el('td', {}, chip(state.colours.get(r.route_id))),
      el('td', {}, r.route_id, badge),
      el('td', { text: r.vehicle_id }),
      el('td', { class: 'n', text: r.echelon }),
      el('td', { class: 'n', text: r.stops.length - 2 }),
      el('td', { text: hhmm(r.stops[0].departure_s) }),
      el('td', { text: hhmm(r.stops[r.stops.length - 1].arrival_s) }),
      el('td', { class: 'n', text: (r.distance_m / 1000).toFixed(1) }),
      el('td', { class: 'n', text: yuan(r.cost_fen) }));
  });
  $('routes').tBodies[0].replaceChildren(...rows);
  $('route-count').textContent = `(${state.plan.routes.length})`;
}

function selectRoute(routeId) {
  state.selected = routeId;
  for (const poly of $('route-lines').children) {
    poly.classList.toggle('sel', poly.dataset.routeId === routeId);
    poly.classList.toggle('dim', Boolean(routeId) && poly.dataset.routeId !== routeId);
  }
  for (const tr of $('routes').tBodies[0].rows) tr.classList.toggle('sel', tr.dataset.routeId === routeId);
  const route = routeId && state.plan.routes.find((r) => r.route_id === routeId);
  const onRoute = new Set(route ? route.stops.map((s) => s.point_id) : []);
  for (const shape of $('points').children) shape.classList.toggle('onroute', onRoute.has(shape.dataset.pointId));
  $('route-detail').hidden = !route;
  if (!route) return;
  const dropped = new Set(route.stops.flatMap((s) => s.drop));
  $('route-title').textContent = `${route.route_id} · ${route.vehicle_id} (${route.vehicle_type}) · ` +
    `echelon ${route.echelon}, trip ${route.trip} · from ${pointName(route.depot)} · ${dropped.size} parcels`;
  const base = `/v1/plans/${state.job.plan_id}/routes/${route.route_id}`;
  const links = [paperLink(`${base}/sheet.pdf`, '路单 PDF'), paperLink(`${base}/sheet.csv`, 'CSV'),
    paperLink(`${base}/sheet.gpx`, 'GPX')];
  if (route.stops[0].load.length) {
    links.push(paperLink(`${base}/loading.pdf`, '装车单 Loading PDF'), paperLink(`${base}/loading.csv`, 'Loading CSV'));
  }
  $('sheet-links').replaceChildren(...links);
  $('stops').tBodies[0].replaceChildren(...route.stops.map((s) => el('tr', { 'data-point-id': s.point_id },
    el('td', { class: 'n', text: s.seq }),
    el('td', { class: 'stop-name', text: pointName(s.point_id) }),
    el('td', { text: hhmm(s.arrival_s) }),
    el('td', { text: hhmm(s.departure_s) }),
    el('td', { class: 'n', text: s.load.length }),
    el('td', { class: 'n', text: s.drop.length }),
    el('td', { class: 'n', text: (s.weight_g_after / 1000).toFixed(1) }),
    el('td', { class: 'n', text: (s.volume_ml_after / 1000).toFixed(1) }))));
}

function fillUnassigned() {
  const list = state.plan.unassigned;
  $('unassigned-count').textContent = `(${list.length})`;
  $('unassigned').tBodies[0].replaceChildren(...list.map((u) => el('tr', {},
    el('td', { text: u.parcel_id }), el('td', { text: u.code }), el('td', { text: u.reason }))));
}

function stopsText(stops, timed) {
  return stops.map((s) => (timed
    ? `${pointName(s.point_id)} ${hhmm(s.old_arrival_s)}→${hhmm(s.new_arrival_s)}`
    : pointName(s.point_id))).join('、') || '–';
}

function fillChanges() {
  const ch = state.changes;
  $('changes-panel').hidden = !ch;
  if (!ch) return;
  const changed = ch.routes.filter((r) => r.status !== 'unchanged');
  $('changes-summary').textContent = `Against ${ch.old_plan_id}` +
    `${ch.old_released_at ? ' (released: its drivers hold its sheets)' : ' (not released)'}: ` +
    `${changed.length} of ${ch.routes.length} routes changed. New sheets for: ` +
    `${ch.drivers_changed.join(', ') || 'no driver'}.`;
  $('changes').tBodies[0].replaceChildren(...changed.map((c) => el('tr', {},
    el('td', { text: c.vehicle_id }),
    el('td', { text: `${c.old_route_id || '–'} → ${c.new_route_id || '–'}` }),
    el('td', {}, el('span', { class: `badge ${c.status}`, text: c.status })),
    el('td', { text: stopsText(c.added, false) }),
    el('td', { text: stopsText(c.removed, false) }),
    el('td', { text: stopsText(c.retimed, true) }),
    el('td', { class: 'n', text: c.parcels_changed }))));
}

// ---- the town board ------------------------------------------------------------------------

function spark(days, byDay) {
  const w = 8; const gap = 2; const h = 28;
  const max = Math.max(1, ...days.map((d) => { const t = byDay.get(d); return t ? t.delivered + t.collected + t.produce_left : 0; }));
  const chart = svg('svg', { class: 'spark', width: days.length * (w + gap), height: h, role: 'img' });
  days.forEach((d, i) => {
    const t = byDay.get(d);
    if (!t) return;
    let y = h;
    for (const [value, cls] of [[t.delivered, 'd'], [t.collected, 'c'], [t.produce_left, 'l']]) {
      const bh = (value / max) * (h - 2);
      y -= bh;
      chart.append(svg('rect', { x: i * (w + gap), y, width: w, height: bh, class: cls }));
    }
    const title = svg('title', {});
    title.textContent = `${d}: ${t.delivered} delivered, ${t.collected} produce collected, ${t.produce_left} left`;
    chart.lastChild && chart.lastChild.append(title);
  });
  return chart;
}

function onTimeCell(a) {
  // a town's on-time share of its released planned deliveries over the range (the
  // assessment's), failures by reason as the tooltip; 'no scans' without a released plan
  if (!a || a.on_time_share === null) return el('td', { class: 'muted', text: 'no scans' });
  const failed = Object.entries(a.failed).map(([why, n]) => `${why} ${n}`).join(', ');
  return el('td', {
    class: 'n',
    text: `${(a.on_time_share * 100).toFixed(1)} %`,
    title: `${a.on_time} of ${a.planned_deliveries} planned deliveries on time (${a.delivered} delivered); failed: ${failed || 'none'}`,
  });
}

async function fillTowns() {
  const from = $('town-from').value;
  const to = $('town-to').value;
  let report;
  let assessed;
  try {
    report = await json(`/v1/kpis?from=${from}&to=${to}`);
    // on time and failures come from the drivers' scans of released plans (/v1/assessment)
    const assessment = await json(`/v1/assessment?from=${from}&to=${to}`);
    assessed = new Map(assessment.towns.map((t) => [t.town_id, t]));
  } catch (err) { showError('app-error', err); return; }
  const days = [];
  for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
  const planned = new Set(report.towns.map((t) => t.date));
  $('town-days').textContent = `${planned.size} of ${days.length} days planned`;
  const rows = state.towns.map((town) => {
    const mine = report.towns.filter((t) => t.town_id === town.town_id);
    const sum = (k) => mine.reduce((a, t) => a + t[k], 0);
    const done = sum('delivered') + sum('collected');
    const byDay = new Map(mine.map((t) => [t.date, t]));
    return el('tr', { 'data-town-id': town.town_id },
      el('td', { text: town.name.replace(/(供销社)?服务站$/, '') }),
      el('td', { class: 'n', text: sum('parcels') }),
      el('td', { class: 'n', text: sum('delivered') }),
      el('td', { class: 'n', text: done ? yuan(sum('cost_fen') / done) : '–' }),
      onTimeCell(assessed.get(town.town_id)),
      el('td', { class: 'n', text: sum('collected') }),
      el('td', { class: 'n', text: sum('produce_left') }),
      el('td', {}, spark(days, byDay)));
  });
  $('towns').tBodies[0].replaceChildren(...rows);
}

// ---- drivers and stations ------------------------------------------------------------------

async function loadFieldView(planId) {
  let index;
  try {
    index = await json(`/v1/plans/${planId}/routes`);
  } catch (err) { showError('app-error', err); return; }
  $('plan-facts').textContent = `released ${String(index.released_at).slice(0, 16)}`;
  $('field-routes').tBodies[0].replaceChildren(...index.routes.map((r) => el('tr', {},
    el('td', { text: r.route_id }), el('td', { text: r.vehicle_id }), el('td', { text: r.echelon }),
    el('td', { text: hhmm(r.start_s) }), el('td', { text: hhmm(r.end_s) }),
    el('td', {}, ...[['pdf', 'PDF'], ['csv', 'CSV'], ['gpx', 'GPX'], ['loading_pdf', '装车单'], ['loading_csv', 'Loading CSV']]
      .filter(([k]) => r.links[k]).flatMap(([k, label]) => [paperLink(r.links[k], label), ' '])))));
}

// ---- wiring --------------------------------------------------------------------------------

function wire() {
  $('signin').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError('signin-error', null);
    try { await signIn($('key').value.trim()); } catch (err) { showError('signin-error', err); }
  });
  $('signout').addEventListener('click', signOut);
  $('day').addEventListener('change', () => fillPlans(null).catch((err) => showError('app-error', err)));
  $('plan-select').addEventListener('change', (ev) => loadPlan(ev.target.value).catch((err) => showError('app-error', err)));
  $('release').addEventListener('click', release);
  $('town-range').addEventListener('submit', (ev) => { ev.preventDefault(); fillTowns(); });
  if (state.key) signIn(state.key).catch((err) => showError('signin-error', err));
}

document.addEventListener('DOMContentLoaded', wire);
