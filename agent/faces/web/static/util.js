// Helpers every part of the page uses: the API with the token, DOM building, number and time formats,
// and saving a download. The token is the TOKEN the page's first script took from the link.
/* global TOKEN */

export const $ = (s) => document.querySelector(s);

/** An element with attributes and (optionally) text; text is never parsed as HTML. */
export function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v);
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

export const fmt = (v) => v === null || v === undefined ? "-"
  : (typeof v === "number" ? Number(v.toPrecision(6)).toString() : String(v));

/** Seconds as "4.2s", "3m 05s" or "1h 02m". */
export function fmtDuration(s) {
  if (s === null || s === undefined) return "";
  if (s < 60) return s.toFixed(1) + "s";
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.round((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** An epoch time in the browser's zone: "14:03:07" today, "11-26 14:03" otherwise. */
export function fmtTime(epoch) {
  if (epoch === null || epoch === undefined) return "";
  const d = new Date(epoch * 1000), now = new Date(), p = (n) => String(n).padStart(2, "0");
  const hms = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return hms;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** fetch() with the token; a refusal throws an Error carrying the server's one-line reason. */
export async function api(path, opts = {}) {
  const res = await fetch(path, { ...opts, headers: { "X-Tunesmith-Token": TOKEN, "Content-Type": "application/json", ...(opts.headers || {}) } });
  if (!res.ok) { let msg = res.statusText; try { msg = (await res.json()).detail; } catch (e) {} throw new Error(msg); }
  return res;
}
export const getJSON = async (path, opts) => (await api(path, opts)).json();

export function showError(e) { $("#error").textContent = e ? String(e.message || e) : ""; }

/** Save ``blob`` as a file named ``name`` (through a temporary link with ``download``). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

/** Download a route of this server (with the token) under the name the server gives it. */
export async function download(path) {
  try {
    const res = await api(path);
    const disposition = res.headers.get("content-disposition") || "";
    const m = disposition.match(/filename="([^"]+)"/);
    saveBlob(await res.blob(), m ? m[1] : path.split("/").pop().split("?")[0]);
    showError(null);
  } catch (e) { showError(e); }
}

/** A link that downloads ``path`` from this server when clicked (the href alone carries no token). */
export function downloadLink(path, text, cls = "download") {
  const a = el("a", { href: path, class: cls }, text);
  a.onclick = (ev) => { ev.preventDefault(); download(path); };
  return a;
}
