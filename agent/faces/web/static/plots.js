// The plot tabs, their options (log scale, contour parameters, importance method) and saving a plot as SVG
// (the server's file) or PNG (drawn from the SVG on a canvas here). A plot answer that arrives after the
// person picked another tab, option or study is dropped: only the latest request may draw. The tabs shown are
// the open study's plots (its summary's ``plots``): the population plot, with its schedule table under it
// (population.js), only for a Population Based Training study.
import { $, api, download, el, getJSON, saveBlob, showError } from "./util.js";
import { state, studyPath } from "./state.js";
import { renderSchedule } from "./population.js";

const LOG_KINDS = ["history", "parallel", "slice", "edf", "curves"];
const opts = { kind: "history", log: false, method: "fanova", x: "", y: "" };
let latest = 0, inflight = null, onTrial = () => {};  // inflight: {path, study, ctrl, again, seq}
let kinds = [];  // the tabs shown

/** The width to draw for: about the plot box's, so that text keeps its size (the server clamps it). A hidden
 * box (another panel is shown on a phone) is about as wide as the window. */
const plotWidth = () => {
  const box = $("#plot").clientWidth || window.innerWidth - 50;
  return Math.round(Math.min(900, Math.max(360, box)) / 20) * 20;
};

function query(extra = {}) {
  const q = new URLSearchParams({ width: String(plotWidth()) });
  if (opts.log && LOG_KINDS.includes(opts.kind)) q.set("log", "true");
  if (opts.kind === "importance") q.set("method", opts.method);
  if (opts.kind === "contour") { if (opts.x) q.set("x", opts.x); if (opts.y) q.set("y", opts.y); }
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return `${studyPath()}/plots/${opts.kind}${s ? "?" + s : ""}`;
}

function showOptions() {
  $("#opt-log").hidden = !LOG_KINDS.includes(opts.kind);
  $("#opt-method").hidden = opts.kind !== "importance";
  $("#opt-x").hidden = $("#opt-y").hidden = opts.kind !== "contour";
  document.querySelectorAll("#tabs button").forEach((b) => {
    const on = b.dataset.kind === opts.kind;
    b.setAttribute("aria-selected", String(on)); b.tabIndex = on ? 0 : -1;
  });
}

/** Fill the contour's parameter pickers with the open study's parameters. */
export function setParams(params) {
  for (const [id, key] of [["#contour-x", "x"], ["#contour-y", "y"]]) {
    const sel = $(id);
    const values = ["", ...params];
    if ([...sel.options].map((o) => o.value).join() !== values.join()) {
      sel.replaceChildren(...values.map((p) => el("option", { value: p }, p || "auto")));
    }
    sel.value = params.includes(opts[key]) ? opts[key] : "";
  }
}

/** Show the tabs of the plots in ``shown`` (the open study's); a tab it lacks falls back to the history. */
export function setKinds(shown) {
  kinds = shown;
  document.querySelectorAll("#tabs button").forEach((b) => { b.hidden = !shown.includes(b.dataset.kind); });
  if (!shown.includes(opts.kind)) opts.kind = "history";
}

/** Empty the plot and the table under it (another study is opening). */
export function clearPlot() {
  $("#plot").replaceChildren();
  renderSchedule($("#plot-extra"), null, onTrial);
}

/** Draw the current tab of the open study. One request at a time: asking again for the same plot while it
 * loads asks once more when it arrives (a live study refreshes often); another tab, option or study aborts it,
 * and an answer to anything but the latest request is ignored. */
export async function loadPlot() {
  if (!state.current) return;
  showOptions();
  const study = state.current, path = query();
  if (inflight && inflight.path === path && inflight.study === study) { inflight.again = true; return; }
  if (inflight) inflight.ctrl.abort();
  const mine = { path, study, ctrl: new AbortController(), again: false, seq: ++latest };
  inflight = mine;
  try {
    const extra = opts.kind === "population" ? getJSON(`${studyPath()}/population`, { signal: mine.ctrl.signal }) : null;
    const [svg, schedule] = await Promise.all([api(path, { signal: mine.ctrl.signal }).then((r) => r.text()), extra]);
    if (mine.seq !== latest || study !== state.current) return;  // a newer tab, option or study was picked since
    const box = $("#plot");
    box.innerHTML = svg;  // server-rendered, every text XML-escaped
    box.dataset.kind = opts.kind;
    box.querySelectorAll("[data-trial]").forEach((m) => { m.onclick = () => onTrial(Number(m.dataset.trial)); });
    renderSchedule($("#plot-extra"), schedule, onTrial);
  } catch (e) {
    if (e.name !== "AbortError" && mine.seq === latest) showError(e);
  } finally {
    if (inflight === mine) { inflight = null; if (mine.again) loadPlot(); }
  }
}

function savePng() {
  const svg = $("#plot svg");
  if (!svg) return;
  const [, , w, h] = (svg.getAttribute("viewBox") || "0 0 640 300").split(/\s+/).map(Number);
  const img = new Image();
  img.onload = () => {
    const scale = 2, canvas = el("canvas", { width: w * scale, height: h * scale });
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    canvas.toBlob((blob) => saveBlob(blob, `${state.current}-${opts.kind}.png`), "image/png");
  };
  img.onerror = () => showError("could not draw the plot as PNG; save it as SVG");
  const text = new XMLSerializer().serializeToString(svg);
  img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
}

/** Build the tabs from the server's list; ``openTrial(n)`` runs when a trial's mark is clicked. */
export function setupPlots(info, openTrial) {
  onTrial = openTrial;
  const tabs = info.plots.map((k) => {
    const b = el("button", { type: "button", role: "tab", "data-kind": k, "aria-controls": "plot", "aria-selected": "false" }, k);
    b.onclick = () => { opts.kind = k; loadPlot(); };
    return b;
  });
  $("#tabs").replaceChildren(...tabs);
  $("#tabs").onkeydown = (ev) => {  // arrow keys move between the tabs shown
    const i = kinds.indexOf(opts.kind), step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
    if (!step) return;
    opts.kind = kinds[(i + step + kinds.length) % kinds.length];
    loadPlot(); $(`#tabs button[data-kind="${opts.kind}"]`).focus();
  };
  setKinds(info.plots.filter((k) => !(info.pbt_plots || []).includes(k)));  // until a study says which it has
  $("#method").replaceChildren(...info.importance_methods.map((m) => el("option", { value: m }, m === "fanova" ? "fANOVA" : "PED-ANOVA (as optuna-dashboard)")));
  $("#log").onchange = (e) => { opts.log = e.target.checked; loadPlot(); };
  $("#method").onchange = (e) => { opts.method = e.target.value; loadPlot(); };
  $("#contour-x").onchange = (e) => { opts.x = e.target.value; loadPlot(); };
  $("#contour-y").onchange = (e) => { opts.y = e.target.value; loadPlot(); };
  $("#save-svg").onclick = () => { if (state.current) download(query({ download: "svg" })); };
  $("#save-png").onclick = savePng;
  showOptions();
}
