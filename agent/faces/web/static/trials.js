// The trial table: one column per parameter (for every trial, whatever its state; the reason of a failed,
// pruned or timed-out trial goes beside its params), start time and duration; sorted by a clicked header and
// filtered by state, proposer and value. The table scrolls in its own box.
import { $, el, fmt, fmtDuration, fmtTime } from "./util.js";

const view = { key: "number", desc: true, state: "", proposer: "", min: "", max: "" };
let last = { trials: [], summary: null, onOpen: () => {} };

const proposerOf = (t) => t.proposer === "strategy" ? (t.strategy || "strategy") : t.proposer;

/** Columns: [key, header, value of a trial (for sorting), cell text, cell class]. */
function columns(params) {
  const cols = [
    ["number", "#", (t) => t.number, (t) => String(t.number), "num"],
    ["state", "state", (t) => t.state, (t) => t.state, null],
    ["value", "value", (t) => t.value, (t) => fmt(t.value), "num"],
    ["proposer", "proposer", proposerOf, proposerOf, null],
    ["started", "started", (t) => t.started_at, (t) => fmtTime(t.started_at), "num"],
    ["duration", "duration", (t) => t.duration, (t) => fmtDuration(t.duration), "num"],
  ];
  for (const p of params) {
    cols.push(["param:" + p, p, (t) => t.params[p], (t) => (p in t.params ? fmt(t.params[p]) : ""), "param"]);
  }
  cols.push(["reason", "reason", (t) => t.reason, (t) => t.reason || "", "reason"]);
  return cols;
}

function compare(a, b) {
  const none = (v) => v === null || v === undefined || v === "";
  if (none(a) && none(b)) return 0;
  if (none(a)) return 1;   // blanks last, whichever the direction
  if (none(b)) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function keep(t) {
  if (view.state && t.state !== view.state) return false;
  if (view.proposer && proposerOf(t) !== view.proposer) return false;
  if (view.min !== "" && !(t.value !== null && t.value >= Number(view.min))) return false;
  if (view.max !== "" && !(t.value !== null && t.value <= Number(view.max))) return false;
  return true;
}

function fillSelect(select, values) {
  const chosen = select.value;
  const opts = [el("option", { value: "" }, "all"), ...values.map((v) => el("option", { value: v }, v))];
  select.replaceChildren(...opts);
  select.value = values.includes(chosen) ? chosen : "";
}

/** Draw ``trials`` of the study ``summary``; a row (click or Enter) calls ``onOpen(number)``. */
export function renderTrials(trials, summary, onOpen) {
  last = { trials, summary, onOpen };
  const params = summary.params || [];
  const cols = columns(params);
  fillSelect($("#f-state"), [...new Set(trials.map((t) => t.state))].sort());
  fillSelect($("#f-proposer"), [...new Set(trials.map(proposerOf))].sort());
  view.state = $("#f-state").value; view.proposer = $("#f-proposer").value;

  const head = cols.map(([key, label]) => {
    const th = el("th", { scope: "col", "aria-sort": view.key === key ? (view.desc ? "descending" : "ascending") : null });
    const b = el("button", { type: "button", "data-sort": key, title: `sort by ${label}` }, label);
    // a first click shows the newest trials, the best values or A to Z first; a second one turns it round
    const first = key === "number" || (key === "value" && summary.direction === "maximize");
    b.onclick = () => { view.desc = view.key === key ? !view.desc : first; view.key = key; draw(); };
    th.append(b); return th;
  });
  $("#trials thead tr").replaceChildren(...head);

  const sortBy = cols.find((c) => c[0] === view.key) || cols[0];
  const shown = trials.filter(keep).sort((a, b) => {
    const c = compare(sortBy[2](a), sortBy[2](b)) || a.number - b.number;
    const blank = (t) => { const v = sortBy[2](t); return v === null || v === undefined || v === ""; };
    return view.desc && !blank(a) && !blank(b) ? -c : c;
  });
  const bestNo = summary.best ? summary.best.trial : -1;
  const rows = shown.map((t) => {
    const tr = el("tr", { "data-trial": t.number, tabindex: "0", class: t.number === bestNo ? "best" : null,
                          "aria-label": `trial ${t.number}, ${t.state}${t.value !== null ? ", value " + fmt(t.value) : ""}` });
    for (const [key, , , text, cls] of cols) {
      const c = key === "state" ? "state-" + t.state : cls;
      tr.append(el("td", { class: c, title: key === "reason" && t.reason ? t.reason : null }, text(t)));
    }
    tr.onclick = () => onOpen(t.number);
    tr.onkeydown = (ev) => { if (ev.key === "Enter") onOpen(t.number); };
    return tr;
  });
  const focused = document.activeElement && document.activeElement.closest("#trials tbody tr");
  $("#trials tbody").replaceChildren(...rows);
  if (focused) {  // a redraw keeps the keyboard on the same trial
    const again = $(`#trials tbody tr[data-trial="${focused.dataset.trial}"]`);
    if (again) again.focus();
  }
  $("#trial-count").textContent = shown.length === trials.length ? `${trials.length}` : `${shown.length} of ${trials.length}`;
}

const draw = () => { if (last.summary) renderTrials(last.trials, last.summary, last.onOpen); };

export function setupTrialFilters() {
  $("#f-state").onchange = (e) => { view.state = e.target.value; draw(); };
  $("#f-proposer").onchange = (e) => { view.proposer = e.target.value; draw(); };
  $("#f-min").oninput = (e) => { view.min = e.target.value; draw(); };
  $("#f-max").oninput = (e) => { view.max = e.target.value; draw(); };
}
