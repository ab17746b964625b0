// The page: the list of studies, the open study (summary, steering, downloads, plots, trials), live events
// and the panels of a narrow screen. Parts: util.js (API, DOM), trials.js, plots.js, detail.js, chat.js.
/* global TOKEN */
import { $, api, download, el, fmt, fmtTime, getJSON, showError } from "./util.js";
import { state, studyPath } from "./state.js";
import { renderTrials, setupTrialFilters } from "./trials.js";
import { clearPlot, loadPlot, setKinds, setParams, setupPlots } from "./plots.js";
import { closeTrial, openTrial } from "./detail.js";
import { addMsg, chatHint, onChatEvent, setupChat, showPending } from "./chat.js";

const EXPORT_LABELS = { csv: "CSV", json: "JSON", parquet: "Parquet", optuna: "Optuna DB" };
let source = null, refreshTimer = null;
const narrow = window.matchMedia("(max-width: 800px)");

/** On a narrow screen, show one panel: "left" (studies), "center" (the study) or "right" (chat). */
function showPanel(name) {
  $("main").dataset.panel = name;
  document.querySelectorAll("#panels button").forEach((b) => b.setAttribute("aria-current", String(b.dataset.panel === name)));
}

async function loadInfo() {
  state.info = await getJSON("/api/info");
  const folders = state.info.spec_folders || {};
  $("#spec").replaceChildren(...state.info.specs.map((s) =>
    el("option", { value: s, title: folders[s] || null }, folders[s] ? `${s} — ${folders[s]}` : s)));
  $("#strategy").replaceChildren(...state.info.strategies.map((s) => el("option", { value: s }, s)));
  $("#downloads").append(...state.info.exports.map((f) => {
    const b = el("button", { type: "button", class: "small", "data-export": f, "aria-label": `download the trials as ${f}` },
      EXPORT_LABELS[f] || f);
    b.onclick = () => { if (state.current) download(`${studyPath()}/export/${f}`); };
    return b;
  }));
  setupPlots(state.info, openTrial);
}

async function loadStudies() {
  try {
    const list = await getJSON("/api/studies");
    $("#conn").textContent = `connected · ${list.length} studies`;
    const items = list.map((s) => {
      const li = el("li", { "data-id": s.id, class: s.id === state.current ? "sel" : null });
      const b = el("button", { type: "button", class: "study", "aria-current": s.id === state.current ? "true" : null });
      const best = s.best ? ` · best ${fmt(s.best.value)}` : "";
      const st = s.error ? "unreadable" : s.paused ? "paused" : s.running ? "running" : s.status;
      b.append(el("strong", {}, s.name || s.id),
        el("span", { class: "meta" }, `${s.id}${s.started ? " · started " + fmtTime(s.started) : ""}`),
        el("span", { class: "meta" }, s.error || `${st} · ${s.done}/${s.budget ?? "∞"}${best}`));
      b.onclick = () => select(s.id);
      li.append(b); return li;
    });
    $("#studies").replaceChildren(...(items.length ? items : [el("li", { class: "empty" }, "none yet")]));
  } catch (e) { $("#conn").textContent = "disconnected"; showError(e); }
}

function select(id) {
  if (narrow.matches) showPanel("center");
  if (state.current === id) return;
  state.current = id; location.hash = "study=" + encodeURIComponent(id);
  $("#activity-log").replaceChildren(); chatHint(); closeTrial();
  clearPlot();
  if (source) source.close();
  source = new EventSource(`${studyPath(id)}/events?after=0&token=${encodeURIComponent(TOKEN)}`);
  source.onmessage = (m) => onEvent(JSON.parse(m.data));
  source.onerror = () => { $("#conn").textContent = "reconnecting…"; };
  source.onopen = () => { $("#conn").textContent = "live"; };
  loadStudies(); refresh();
}

function describe(ev) {
  const d = ev.data;
  switch (ev.kind) {
    case "trial_started": return `#${ev.trial} started (${d.proposer}${d.strategy ? " " + d.strategy : ""})`;
    case "trial_finished": return `#${ev.trial} ${d.state}${d.value !== undefined && d.value !== null ? " " + fmt(d.value) : ""}${d.reason && d.state !== "complete" ? " — " + d.reason : ""}`;
    case "command": return `${d.source} asked: ${d.op}`;
    case "command_done": return `${d.ok ? "done" : "refused"}: ${d.message}`;
    case "change_proposed": return `${d.source} proposed: ${d.summary}`;
    case "chat": return null;
    default: return ev.kind.replaceAll("_", " ") + (d.reason ? ` (${d.reason})` : d.source ? ` by ${d.source}` : "");
  }
}

function onEvent(ev) {
  const text = describe(ev);
  if (text) { const log = $("#activity-log"); log.prepend(el("div", { "data-kind": ev.kind }, text));
    while (log.childNodes.length > 200) log.lastChild.remove(); }
  if (ev.kind === "chat") onChatEvent(ev.data);
  scheduleRefresh();
}

function scheduleRefresh() { if (!refreshTimer) refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 300); }

async function refresh() {
  if (!state.current) return;
  const id = state.current;
  try {
    const [s, trials] = await Promise.all([getJSON(studyPath(id)), getJSON(`${studyPath(id)}/trials`)]);
    if (id !== state.current) return;
    state.summary = s; state.trials = trials;
    renderSummary(s); setParams(s.params || []); setKinds(s.plots || state.info.plots);
    renderTrials(trials, s, openTrial); loadPlot(); showError(null);
  } catch (e) { showError(e); }
}

function renderSummary(s) {
  const st = s.paused ? "paused" : s.running ? "running" : s.status;
  const best = s.best ? `best #${s.best.trial}: ${s.metric} = ${fmt(s.best.value)}` : "no result yet";
  $("#summary").replaceChildren(el("span", { class: "big" }, s.name || s.id), el("span", { class: "pill " + st, id: "state" }, st),
    el("span", { id: "progress" }, `${s.done}/${s.budget ?? "∞"} trials`), el("span", { id: "best" }, best),
    el("span", { class: "empty" }, `${s.direction} ${s.metric} · ${s.strategy}`),
    el("span", { class: "sub", id: "where" }, `folder ${s.id}${s.started ? " · started " + fmtTime(s.started) : ""}`),
    el("span", { class: "sub", id: "ttr" }, s.ttr_line || ""),
    el("span", { class: "warn", id: "verdict", role: "alert" },
      s.setup_broken ? `paused: the model says the setup is broken: ${s.setup_broken}` : ""));
  $("#btn-stop").disabled = !s.running; $("#btn-pause").disabled = !s.running || s.paused;
  $("#btn-resume").disabled = !s.can_resume;
  $("#btn-resume").title = s.budget_spent && !s.running ? `the budget is spent (${s.done}/${s.budget}); raise it first: /budget trials=N` : "";
  showPending(s.pending);
}

function setup() {
  setupTrialFilters();
  setupChat(() => { loadStudies(); scheduleRefresh(); });
  document.querySelectorAll("#panels button").forEach((b) => { b.onclick = () => showPanel(b.dataset.panel); });
  window.addEventListener("hashchange", () => { const m = location.hash.match(/study=([^&]+)/);
    if (m) select(decodeURIComponent(m[1])); });
  for (const action of ["stop", "pause", "resume"]) {
    $("#btn-" + action).onclick = async () => {
      try { const r = await (await api(`${studyPath()}/control`, { method: "POST", body: JSON.stringify({ action }) })).json();
        addMsg(`${action}: ${r.message}`, r.ok ? "bot" : "other"); } catch (e) { showError(e); }
      scheduleRefresh(); loadStudies(); };
  }
  $("#start-form").onsubmit = async (e) => {
    e.preventDefault(); $("#start").disabled = true;
    const body = { spec: $("#spec").value, strategy: $("#strategy").value };
    if ($("#start-trials").value) body.trials = Number($("#start-trials").value);
    if ($("#start-workers").value) body.workers = Number($("#start-workers").value);
    try { const r = await (await api("/api/studies", { method: "POST", body: JSON.stringify(body) })).json();
      await loadStudies(); select(r.id); addMsg(r.message, "bot"); showError(null);
    } catch (err) { showError(err); } finally { $("#start").disabled = false; }
  };
}

(async () => {
  setup();
  try { await loadInfo(); } catch (e) { showError(e); $("#conn").textContent = "not authorised"; return; }
  chatHint();
  await loadStudies();
  const m = location.hash.match(/study=([^&]+)/);
  if (m) select(decodeURIComponent(m[1]));
  else if (narrow.matches) showPanel("left");
  setInterval(loadStudies, 3000);
})();
