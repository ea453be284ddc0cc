// The demo page: three chats drawn from the emulator's view of them, redrawn on server-sent
// events. Everything the bot or a person wrote is put in with textContent, never as HTML.
"use strict";

const KEYS = ["customer", "staff", "manager"];
const chats = {};       // key -> {chat_id, messages}
const replyTo = {};     // key -> message id being replied to

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (_err) {
    return null;
  }
}

// Text with Telegram's entities (offsets in UTF-16 units, as JavaScript strings count): cut at
// every entity edge and style each piece by the entities covering it.
function richText(text, entities) {
  const frag = document.createDocumentFragment();
  if (!text) return frag;
  const edges = new Set([0, text.length]);
  for (const e of entities || []) { edges.add(e.offset); edges.add(e.offset + e.length); }
  const cuts = [...edges].filter((x) => x >= 0 && x <= text.length).sort((a, b) => a - b);
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [start, end] = [cuts[i], cuts[i + 1]];
    const covering = (entities || []).filter((e) => e.offset <= start && e.offset + e.length >= end);
    const piece = text.slice(start, end);
    if (!covering.length) { frag.append(document.createTextNode(piece)); continue; }
    const link = covering.find((e) => e.type === "text_link" || e.type === "url");
    const href = link ? safeUrl(link.type === "url" ? piece : link.url) : null;
    const span = el(href ? "a" : "span", covering.map((e) => "e-" + e.type).join(" "), piece);
    if (href) { span.href = href; span.target = "_blank"; span.rel = "noopener noreferrer"; span.classList.add("e-link"); }
    frag.append(span);
  }
  return frag;
}

function timeOf(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function senderName(m) {
  const f = m.from || {};
  return [f.first_name, f.last_name].filter(Boolean).join(" ");
}

function renderMessage(key, m, byId) {
  const mine = m.sender !== "bot" && (m.from || {}).id === chats[key].me;
  const box = el("div", "msg" + (mine ? " mine" : ""));
  box.dataset.messageId = m.message_id;
  if (key === "staff" && !mine) box.append(el("div", "who", senderName(m)));
  if (m.reply_to_message_id) {
    const quoted = byId.get(m.reply_to_message_id);
    const first = quoted && quoted.text ? quoted.text.split("\n")[0] : "#" + m.reply_to_message_id;
    box.append(el("div", "quote", first));
  }
  const media = m.media;
  if (media && media.kind === "photo") {
    const img = el("img");
    img.alt = "chart";
    img.src = "/api/files/" + encodeURIComponent(media.file_id);
    box.append(img);
  } else if (media && media.kind === "document") {
    const a = el("a", "doc", "📄 " + (media.file_name || "file"));
    a.href = "/api/files/" + encodeURIComponent(media.file_id) + "?name=" + encodeURIComponent(media.file_name || "file");
    a.download = media.file_name || "file";
    box.append(a, document.createElement("br"));
  } else if (media && media.kind === "voice") {
    box.append(el("div", "muted", "🎤 voice note"));
  }
  box.append(richText(m.text || "", m.entities));
  const meta = el("span", "meta", (m.edited ? "edited " : "") + timeOf(m.date));
  box.append(meta);
  const reply = el("button", "reply", "↩");
  reply.type = "button";
  reply.title = "Reply";
  reply.addEventListener("click", () => setReply(key, m));
  box.append(reply);
  const rows = m.inline_keyboard || [];
  if (!rows.length) return [box];
  const kb = el("div", "kb");
  for (const row of rows) {
    const line = el("div", "row");
    for (const b of row) {
      if (b.callback_data !== undefined) {
        const button = el("button", "", b.label);
        button.type = "button";
        button.addEventListener("click", () => press(key, m.message_id, b.callback_data));
        line.append(button);
      } else {
        const href = b.url ? safeUrl(b.url) : null;
        const a = el(href ? "a" : "span", href ? "" : "disabled", b.label);
        if (href) { a.href = href; a.target = "_blank"; a.rel = "noopener noreferrer"; }
        else a.title = b.url || "";
        line.append(a);
      }
    }
    kb.append(line);
  }
  return [box, kb];
}

function render(key) {
  const section = document.querySelector(`[data-chat="${key}"]`);
  const list = section.querySelector(".messages");
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const byId = new Map(chats[key].messages.map((m) => [m.message_id, m]));
  list.replaceChildren(...chats[key].messages.flatMap((m) => renderMessage(key, m, byId)));
  section.querySelector(".empty").hidden = chats[key].messages.length > 0;
  if (nearBottom || chats[key].scrollDown) { list.scrollTop = list.scrollHeight; chats[key].scrollDown = false; }
  for (const img of list.querySelectorAll("img")) {
    img.addEventListener("load", () => { if (nearBottom) list.scrollTop = list.scrollHeight; });
  }
}

function setReply(key, m) {
  replyTo[key] = m ? m.message_id : null;
  const bar = document.querySelector(`[data-chat="${key}"] .replying`);
  bar.hidden = !m;
  bar.textContent = m ? "↩ Replying to: " + (m.text || "").split("\n")[0].slice(0, 80) + "  ✕" : "";
}

async function post(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) {
    let text = response.statusText;
    try { text = (await response.json()).error || text; } catch (_e) { /* not JSON */ }
    toast(text);
  }
  return response;
}

function press(key, messageId, data) { post("/api/press", { chat: key, message_id: messageId, callback_data: data }); }

async function send(key, text) {
  text = text.trim();
  if (!text) return;
  chats[key].scrollDown = true;
  const body = { chat: key, text };
  if (replyTo[key]) body.reply_to = replyTo[key];
  await post("/api/send", body);
  setReply(key, null);
}

let toastTimer = null;
function toast(text) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 2500);
}

const ME = { customer: 1000, staff: 3000, manager: 2000 };

function apply(view) {
  chats[view.key] = { ...(chats[view.key] || {}), chat_id: view.chat_id, messages: view.messages, me: ME[view.key] };
  render(view.key);
}

async function start() {
  for (const key of KEYS) {
    const section = document.querySelector(`[data-chat="${key}"]`);
    const form = section.querySelector(".composer");
    const area = form.querySelector("textarea");
    form.addEventListener("submit", (e) => { e.preventDefault(); send(key, area.value); area.value = ""; });
    area.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
    });
    section.querySelector(".replying").addEventListener("click", () => setReply(key, null));
    for (const chip of section.querySelectorAll(".chips button")) {
      chip.addEventListener("click", () => send(key, chip.textContent));
    }
  }
  document.getElementById("survey-me").addEventListener("click", async () => {
    const r = await post("/api/survey-me", {});
    if (r.ok) toast("The shop posted a purchase for you: the question comes in a moment.");
  });
  const all = await (await fetch("/api/chats")).json();
  for (const key of KEYS) apply(all[key]);
  const events = new EventSource("/api/events");
  const status = document.getElementById("status");
  events.addEventListener("open", () => { status.textContent = "live"; });
  events.addEventListener("error", () => { status.textContent = "reconnecting…"; });
  events.addEventListener("chat", (e) => apply(JSON.parse(e.data)));
  events.addEventListener("toast", (e) => toast(JSON.parse(e.data).text));
}

start();
