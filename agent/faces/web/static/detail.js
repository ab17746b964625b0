// One trial in an overlay: value, provenance, every param (one row each, wrapped, never cut), the reason,
// its curve, the log tails and links to the full logs. Escape or the close button closes it and gives the
// focus back to where it was.
import { $, api, downloadLink, el, fmt, fmtDuration, fmtTime, getJSON, showError } from "./util.js";
import { studyPath } from "./state.js";

let returnFocus = null;

export function closeTrial() {
  const d = $("#detail");
  if (d.hidden) return;
  d.hidden = true;
  // the table may have been redrawn meanwhile: then the row of the same trial takes the focus back
  const row = returnFocus && returnFocus.dataset.trial !== undefined
    ? document.querySelector(`#trials tr[data-trial="${returnFocus.dataset.trial}"]`) : returnFocus;
  if (row && document.contains(row)) row.focus();
  returnFocus = null;
}

export async function openTrial(n) {
  const base = studyPath();
  try {
    const [t, curve] = await Promise.all([
      getJSON(`${base}/trials/${n}`),
      api(`${base}/plots/curves?trial=${n}&width=${Math.min(600, Math.max(360, window.innerWidth - 48))}`).then((r) => r.text()),
    ]);
    if (base !== studyPath()) return;  // another study was opened meanwhile
    const d = $("#detail");
    if (d.hidden) returnFocus = document.activeElement;
    const close = el("button", { type: "button", id: "detail-close", "aria-label": "Close the trial view (Escape)" }, "close");
    close.onclick = closeTrial;
    const head = el("div", { class: "head" });
    head.append(el("h2", { id: "detail-title" }, `trial #${t.number} · ${t.state}`), close);
    const rows = [["value", fmt(t.value)], ["proposer", t.proposer + (t.strategy ? " / " + t.strategy : "")],
      ["model", t.model], ["rationale", t.rationale], ["reason", t.reason],
      ["started", t.started_at ? fmtTime(t.started_at) : null],
      ["duration", t.duration !== null ? fmtDuration(t.duration) : null], ["retry of", t.retry_of]];
    const table = el("table", { "aria-label": "trial details" });
    for (const [k, v] of rows) if (v !== null && v !== undefined && v !== "") {
      const tr = el("tr"); tr.append(el("th", { scope: "row" }, k), el("td", {}, v)); table.append(tr);
    }
    const params = el("table", { id: "detail-params", "aria-label": "parameters" });
    for (const [k, v] of Object.entries(t.params)) {
      const tr = el("tr"); tr.append(el("th", { scope: "row" }, k), el("td", { class: "mono" }, fmt(v))); params.append(tr);
    }
    const plot = el("div", { id: "trial-curve" }); plot.innerHTML = curve;  // server-rendered, escaped
    const logs = el("div", { class: "row small" });
    logs.append(el("span", { class: "empty" }, "full logs:"),
      downloadLink(`${base}/trials/${n}/log?stream=stdout&full=true`, "stdout.log"),
      downloadLink(`${base}/trials/${n}/log?stream=stderr&full=true`, "stderr.log"));
    d.replaceChildren(head, table, el("h2", {}, "params"), params, plot, logs);
    if (t.stderr_tail) d.append(el("h2", {}, "stderr tail"), el("pre", { id: "stderr" }, t.stderr_tail));
    if (t.stdout_tail) d.append(el("h2", {}, "stdout tail"), el("pre", { id: "stdout" }, t.stdout_tail));
    d.hidden = false;
    close.focus();
  } catch (e) { showError(e); }
}

document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeTrial(); });
