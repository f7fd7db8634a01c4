// The driver's page: today's stops of the released plan for the key's vehicle. Marks
// (delivered, collected, failed with a reason) become scan events with a client-made id and
// the phone's time; they wait in localStorage until POST /v1/scans acknowledges them, so
// nothing is lost while the phone is offline or the page is closed.
"use strict";

const KEY = "rd-driver-key";
const QUEUE = "rd-driver-queue";
const EVENT = { deliver: "delivered", collect: "picked_up", unload: "unloaded_at_station", load: "loaded" };
const LABEL = { deliver: "送达", collect: "揽收", unload: "卸站", load: "装车" };
const STATUS = { open: "待处理", delivered: "已送达", collected: "已揽收", failed: "失败", queued: "待发送" };

let day = null;
let flushing = false;

const $ = (sel) => document.querySelector(sel);
const queue = () => JSON.parse(localStorage.getItem(QUEUE) || "[]");
const saveQueue = (q) => { localStorage.setItem(QUEUE, JSON.stringify(q)); $("#queue-count").textContent = q.length; };
const key = () => localStorage.getItem(KEY) || "";
const dateParam = () => new URLSearchParams(location.search).get("date");

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function hhmm(s) {
  const m = Math.floor(s / 60);
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function message(text) {
  const li = document.createElement("li");
  li.textContent = text;
  $("#messages").prepend(li);
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${key()}`, ...(options.headers || {}) };
  return fetch(path, { ...options, headers });
}

async function load() {
  const q = dateParam() ? `?date=${encodeURIComponent(dateParam())}` : "";
  let r;
  try {
    r = await api(`/v1/driver/stops${q}`);
  } catch (e) {
    if (day) render();  // offline: keep what is shown
    return;
  }
  if (r.status === 401 || r.status === 403) {
    $("#signin-error").textContent = r.status === 401 ? "密钥无效 key not valid" : "不是司机密钥 not a driver key";
    $("#signin-error").hidden = false;
    $("#signin").hidden = false;
    $("#day").hidden = true;
    return;
  }
  day = await r.json();
  $("#signin").hidden = true;
  $("#day").hidden = false;
  render();
}

function pendingStatus() {
  const out = {};
  for (const e of queue()) out[e.tracking_no] = "queued";
  return out;
}

function render() {
  $("#title").textContent = `${day.vehicle_id} · ${day.date}`;
  $("#plan-note").textContent = day.plan_id ? `计划 ${day.plan_id}` : "今天没有已发布的计划 No released plan today";
  const pending = pendingStatus();
  const list = $("#stops");
  list.replaceChildren();
  for (const stop of day.stops) {
    const li = document.createElement("li");
    li.className = "stop";
    li.dataset.routeId = stop.route_id;
    li.dataset.point = stop.point_id;
    const h = document.createElement("h2");
    h.innerHTML = "";
    h.append(`${stop.route_id} · ${stop.name}`);
    const eta = document.createElement("span");
    eta.className = "eta";
    eta.textContent = hhmm(stop.arrival_s);
    h.append(eta);
    li.append(h);
    const ul = document.createElement("ul");
    ul.className = "parcels";
    for (const p of stop.parcels) ul.append(parcelRow(p, pending[p.tracking_no]));
    li.append(ul);
    list.append(li);
  }
  saveQueue(queue());
}

function parcelRow(p, pending) {
  const li = document.createElement("li");
  li.className = "parcel";
  li.dataset.tracking = p.tracking_no;
  li.dataset.action = p.action;
  const who = document.createElement("div");
  who.innerHTML = "";
  const no = document.createElement("div");
  no.className = "no";
  no.textContent = p.tracking_no;
  const carrier = document.createElement("div");
  carrier.className = "carrier";
  carrier.textContent = `${p.carrier} · ${LABEL[p.action]}`;
  who.append(no, carrier);
  const status = document.createElement("span");
  const shown = pending || p.status;
  status.className = `status ${shown}`;
  status.textContent = STATUS[shown] + (p.reason && !pending ? ` ${day.reasons[p.reason] || p.reason}` : "");
  li.append(who, status);
  if (shown === "open" || shown === "failed") {
    const actions = document.createElement("div");
    actions.className = "actions";
    const done = document.createElement("button");
    done.className = "done";
    done.textContent = LABEL[p.action];
    done.addEventListener("click", () => mark(p, EVENT[p.action]));
    actions.append(done);
    if (p.action === "deliver" || p.action === "collect") {
      const select = document.createElement("select");
      select.className = "reason";
      for (const [code, label] of Object.entries(day.reasons)) {
        const o = document.createElement("option");
        o.value = code;
        o.textContent = label;
        select.append(o);
      }
      const fail = document.createElement("button");
      fail.className = "fail";
      fail.textContent = "失败";
      fail.addEventListener("click", () => mark(p, "failed", select.value));
      actions.append(select, fail);
    }
    li.append(actions);
  }
  return li;
}

function mark(p, event, reason) {
  const e = { event_id: uuid(), tracking_no: p.tracking_no, event, time: new Date().toISOString() };
  if (reason) e.reason = reason;
  saveQueue([...queue(), e]);
  render();
  flush();
}

async function flush() {
  const q = queue();
  if (flushing || !q.length || !navigator.onLine) return;
  flushing = true;
  try {
    const batch = q.slice(0, 200);
    const r = await api("/v1/scans", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ events: batch }),
    });
    if (r.status === 200) {
      const answer = await r.json();
      const done = new Set(answer.results.map((x) => x.event_id));
      for (const x of answer.results) if (x.status === "refused") message(`${x.event_id}: ${x.detail}`);
      saveQueue(queue().filter((e) => !done.has(e.event_id)));
      await load();
    } else if (r.status === 422) {
      const body = await r.json();
      message(`未发送 not sent: ${body.detail}`);
    }
  } catch (e) {
    // offline or the server is away: the queue stays for the next try
  } finally {
    flushing = false;
  }
}

function network() {
  $("#net").textContent = navigator.onLine ? "在线" : "离线";
  $("#net").className = navigator.onLine ? "online" : "offline";
  if (navigator.onLine) flush();
}

document.addEventListener("DOMContentLoaded", () => {
  $("#signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    localStorage.setItem(KEY, $("#key").value.trim());
    $("#signin-error").hidden = true;
    load();
  });
  window.addEventListener("online", network);
  window.addEventListener("offline", network);
  setInterval(flush, 5000);
  saveQueue(queue());
  network();
  if (key()) load();
});
