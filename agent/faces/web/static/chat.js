// The chat pane: slash-commands and (with an LLM) free text, answered in a stream; the proposal waiting for
// approval; links in answers: "/#study=NAME" opens that study, "/api/studies/..." downloads that file.
import { $, api, downloadLink, el } from "./util.js";
import { state } from "./state.js";

const ownChats = [];  // messages this page sent: their chat events are already on screen
let pendingId = null, afterSend = () => {};

export function chatHint() {
  const info = state.info;
  $("#chat-log").replaceChildren(el("div", { class: "msg other" }, info && info.llm
    ? "ask about the study or steer it; slash-commands too (/help). What the model asks for waits for your /approve."
    : "slash-commands work without an LLM: /help, /best, /trials. " + ((info && info.llm_hint) || "")));
}

const LINK = /\/#study=([A-Za-z0-9][A-Za-z0-9_.-]*)|\/api\/studies\/[A-Za-z0-9][A-Za-z0-9_.-]*\/(?:plots|export)\/[A-Za-z]+(?:\?download=svg)?/g;

/** Turn the study links and download paths in an answer into links. */
export function linkify(node) {
  const text = node.textContent, parts = [];
  let last = 0, m;
  LINK.lastIndex = 0;
  while ((m = LINK.exec(text))) {
    parts.push(document.createTextNode(text.slice(last, m.index)));
    parts.push(m[1] ? el("a", { href: "#study=" + m[1] }, m[0]) : downloadLink(m[0], m[0]));
    last = m.index + m[0].length;
  }
  if (parts.length) node.replaceChildren(...parts, document.createTextNode(text.slice(last)));
}

export function addMsg(text, cls) {
  const m = el("div", { class: "msg " + cls }, text); linkify(m);
  $("#chat-log").append(m); $("#chat-log").scrollTop = 1e9; return m;
}

export async function sendChat(text) {
  addMsg(text, "me");
  if (state.current) ownChats.push(text);
  const out = addMsg("", "bot");
  try {
    const res = await api("/api/chat", { method: "POST", body: JSON.stringify({ text, study: state.current }) });
    const reader = res.body.getReader(); const dec = new TextDecoder();
    for (;;) { const { done, value } = await reader.read(); if (done) break;
      out.textContent += dec.decode(value, { stream: true }); $("#chat-log").scrollTop = 1e9; }
    linkify(out);
  } catch (e) { out.textContent = "error: " + e.message; }
  afterSend();
}

/** A ``chat`` event of the open study: shown unless this page sent it. */
export function onChatEvent(data) {
  if (data.source === "web" && ownChats.length && ownChats[0] === data.text) { ownChats.shift(); return; }
  addMsg(`${data.source === "web" ? "" : "[" + data.source + "] "}${data.text}`, data.source === "web" ? "me" : "other");
  addMsg(data.reply, "other");
}

/** Show the proposal waiting for approval (or none); the buttons decide that one, not a later one. */
export function showPending(p) {
  $("#pending").hidden = !p;
  $("#pending-text").textContent = p ? `${p.source} proposed: ${p.summary}` : "";
  pendingId = p ? p.id : null;
}

export function setupChat(onSent) {
  afterSend = onSent;
  $("#chat-form").onsubmit = (e) => { e.preventDefault(); const t = $("#chat-input").value.trim();
    if (t) { $("#chat-input").value = ""; sendChat(t); } };
  $("#approve").onclick = () => sendChat(pendingId === null ? "/approve" : `/approve ${pendingId}`);
  $("#reject").onclick = () => sendChat(pendingId === null ? "/reject" : `/reject ${pendingId}`);
}
