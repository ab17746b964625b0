// The table under the population plot of a Population Based Training study: the hyperparameter schedule
// behind the best result (GET /api/studies/{id}/population), one row per stretch of training, the params
// that changed at its first step in bold. A row opens its trial.
import { el, fmt } from "./util.js";

/** Fill ``box`` with the schedule in ``data``, or hide it when ``data`` is null (not the population tab). */
export function renderSchedule(box, data, onTrial) {
  box.hidden = !data;
  if (!data) { box.replaceChildren(); return; }
  if (!data.best) {
    box.replaceChildren(el("p", { class: "empty" }, "no segment has a result yet: the schedule of the best one comes with it"));
    return;
  }
  const title = el("h3", { id: "schedule-title" },
    `schedule of the best result: trial #${data.best.trial} (member ${data.best.member}), ${data.metric} = ${fmt(data.best.value)}`);
  const head = el("tr");
  for (const name of ["steps", "trial", "member", "began", ...data.params]) head.append(el("th", { scope: "col" }, name));
  const rows = data.rows.map((r) => {
    const tr = el("tr", { "data-trial": r.trial, tabindex: "0" });
    tr.append(el("td", { class: "num" }, `${r.first}–${r.last}`), el("td", { class: "num" }, `#${r.trial}`),
      el("td", { class: "num" }, String(r.member)), el("td", { class: "how" }, r.how));
    for (const p of data.params) {
      const changed = r.changed.includes(p), text = p in r.params ? fmt(r.params[p]) : "";
      const td = el("td", { class: changed ? "param changed" : "param", title: changed ? `changed at step ${r.first}` : null });
      td.append(changed ? el("strong", {}, text) : text);
      tr.append(td);
    }
    tr.onclick = () => onTrial(r.trial);
    tr.onkeydown = (ev) => { if (ev.key === "Enter") onTrial(r.trial); };
    return tr;
  });
  const table = el("table", { id: "schedule", "aria-labelledby": "schedule-title" });
  const thead = el("thead"), tbody = el("tbody");
  thead.append(head); tbody.append(...rows); table.append(thead, tbody);
  const scroll = el("div", { class: "scroll" });
  scroll.append(table);
  box.replaceChildren(title, scroll);
}
