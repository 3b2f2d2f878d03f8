// The inspector's single page: plain HTML, CSS and script, no external assets, so it works on a
// machine with no internet. It takes the inspector's token from its address's fragment (which no
// browser sends to a server or in a Referer), keeps it for the tab, and sends it as a bearer token
// on every API call. It follows /api/stream and draws the actor tree, the selected actor's
// statechart with its active states highlighted, its (redacted) context, its event timeline, and
// forms to send it events or run host commands.
const STYLE = `
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
  body { margin: 0; display: grid; grid-template-columns: 290px 1fr; grid-template-rows: auto 1fr; height: 100vh; }
  header { grid-column: 1 / 3; display: flex; align-items: center; gap: 16px; padding: 10px 16px; background: #1d2330; color: #fff; }
  header h1 { font-size: 16px; margin: 0; font-weight: 600; }
  header .clock { margin-left: auto; display: flex; gap: 8px; align-items: center; font-size: 13px; }
  nav { overflow: auto; border-right: 1px solid #d8dce3; background: #fff; padding: 8px 0; }
  nav h2 { font-size: 11px; text-transform: uppercase; letter-spacing: .08em; color: #6b7385; margin: 12px 14px 4px; }
  nav button { display: block; width: 100%; text-align: left; border: 0; background: none; padding: 5px 14px; font: inherit; font-size: 13px; cursor: pointer; }
  nav button:hover { background: #eef1f6; } nav button.selected { background: #dde7ff; }
  nav .state { color: #3a62d8; font-size: 12px; }
  main { overflow: auto; padding: 16px 20px; display: grid; grid-template-columns: minmax(360px, 1fr) minmax(300px, 420px); gap: 16px; align-content: start; }
  section { background: #fff; border: 1px solid #d8dce3; border-radius: 6px; padding: 12px 14px; }
  section h3 { font-size: 13px; margin: 0 0 8px; color: #4a5263; }
  .statechart .node { border: 1px solid #b9c0cc; border-radius: 6px; padding: 6px 8px; margin: 6px 0; background: #fafbfc; }
  .statechart .node.active { border-color: #3a62d8; background: #e6edff; box-shadow: 0 0 0 2px #3a62d8 inset; }
  .statechart .key { font-weight: 600; font-size: 13px; } .statechart .final { font-size: 11px; color: #6b7385; }
  .statechart .edge { font-size: 12px; color: #4a5263; margin-left: 8px; }
  pre { margin: 0; font-size: 12px; white-space: pre-wrap; word-break: break-word; }
  .timeline { list-style: none; margin: 0; padding: 0; font-size: 12px; max-height: 300px; overflow: auto; }
  .timeline li { padding: 3px 0; border-bottom: 1px solid #eef0f3; } .timeline .type { font-weight: 600; }
  form { display: grid; gap: 6px; margin-bottom: 10px; } label { font-size: 12px; color: #4a5263; }
  select, input, textarea { font: inherit; font-size: 13px; padding: 4px 6px; border: 1px solid #b9c0cc; border-radius: 4px; }
  button.action { background: #3a62d8; color: #fff; border: 0; border-radius: 4px; padding: 6px 10px; font: inherit; font-size: 13px; cursor: pointer; }
  .empty { color: #6b7385; font-size: 13px; } .status { font-size: 12px; color: #6b7385; }
`;

const SCRIPT = `
const $ = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v; else if (k.startsWith("on")) el.addEventListener(k.slice(2), v); else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
};
let state = { actors: [], clock: null, title: "" };
let selected = null;
// What the last "send event" answered; kept here because the stream redraws the forms.
let lastSendResult = { sessionId: null, text: "" };
const GROUPS = ["system", "devices", "sessions", "shards", "sagas"];
const valueText = (v) => v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
const activeIds = (rootId, value) => {
  const ids = new Set([rootId]);
  const walk = (prefix, v) => {
    if (typeof v === "string") ids.add(prefix + "." + v);
    else if (v && typeof v === "object") for (const [k, sub] of Object.entries(v)) { ids.add(prefix + "." + k); walk(prefix + "." + k, sub); }
  };
  walk(rootId, value);
  return ids;
};
const drawNode = (node, active) => {
  const box = $("div", { class: "node" + (active.has(node.id) ? " active" : ""), "data-state": node.id },
    $("div", {}, $("span", { class: "key" }, node.key), node.type === "final" ? $("span", { class: "final" }, " (final)") : null));
  for (const t of node.transitions) box.append($("div", { class: "edge" }, t.event + (t.targets.length ? " → " + t.targets.join(", ") : "")));
  for (const d of node.delays) box.append($("div", { class: "edge" }, "after " + d));
  for (const child of node.children) box.append(drawNode(child, active));
  return box;
};
const TOKEN_KEY = "palmline-inspector-token";
const fromFragment = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromFragment !== null) { sessionStorage.setItem(TOKEN_KEY, fromFragment); history.replaceState(null, "", location.pathname); }
const authorization = { authorization: "Bearer " + (sessionStorage.getItem(TOKEN_KEY) ?? "") };
const post = (path, body) => fetch(path, { method: "POST", headers: { ...authorization, "content-type": "application/json" }, body: JSON.stringify(body) });
const renderNav = () => {
  const nav = document.querySelector("nav");
  nav.replaceChildren();
  const byParent = new Map();
  for (const a of state.actors) { const k = a.parentSessionId ?? ""; byParent.set(k, [...(byParent.get(k) ?? []), a]); }
  const known = new Set(state.actors.map((a) => a.sessionId));
  const item = (a, depth) => {
    const b = $("button", { class: a.sessionId === selected ? "selected" : "", "data-actor": a.name, style: "padding-left:" + (14 + depth * 14) + "px", onclick: () => { selected = a.sessionId; render(); } },
      a.name, " ", $("span", { class: "state" }, valueText(a.value)));
    nav.append(b);
    for (const child of byParent.get(a.sessionId) ?? []) item(child, depth + 1);
  };
  for (const group of GROUPS) {
    const roots = state.actors.filter((a) => a.group === group && (a.parentSessionId === undefined || !known.has(a.parentSessionId)));
    if (roots.length === 0) continue;
    nav.append($("h2", {}, group));
    for (const a of roots) item(a, 0);
  }
  if (state.actors.length === 0) nav.append($("p", { class: "empty", style: "padding:0 14px" }, "No live actors yet."));
};
const renderMain = () => {
  const main = document.querySelector("main");
  const actor = state.actors.find((a) => a.sessionId === selected);
  if (!actor) { main.replaceChildren($("p", { class: "empty" }, "Choose an actor on the left.")); return; }
  const left = $("div");
  left.append($("section", { "data-testid": "actor-header" }, $("h3", {}, actor.name),
    $("div", {}, "state: ", $("strong", { "data-testid": "actor-state" }, valueText(actor.value))), $("div", { class: "status" }, "status: " + actor.status)));
  if (actor.statechart) left.append($("section", { class: "statechart", "data-testid": "statechart" }, $("h3", {}, "statechart"), drawNode(actor.statechart, activeIds(actor.statechart.id, actor.value))));
  left.append($("section", {}, $("h3", {}, "context (biometric and card fields redacted)"), $("pre", { "data-testid": "actor-context" }, JSON.stringify(actor.context, null, 2))));
  const right = $("div");
  const controls = $("section", {}, $("h3", {}, "drive"));
  if (actor.acceptedEvents.length > 0) {
    const select = $("select", { name: "type", "data-testid": "event-type" }, ...actor.acceptedEvents.map((e) => $("option", { value: e }, e)));
    const payload = $("textarea", { name: "payload", rows: "2", "data-testid": "event-payload" });
    payload.value = "{}";
    const result = $("span", { class: "status", "data-testid": "event-result" }, lastSendResult.sessionId === actor.sessionId ? lastSendResult.text : "");
    const showResult = (text) => { lastSendResult = { sessionId: actor.sessionId, text }; result.textContent = text; };
    controls.append($("form", { "data-testid": "send-event", onsubmit: async (e) => {
      e.preventDefault();
      let extra = {};
      try { extra = JSON.parse(payload.value || "{}"); } catch { showResult("payload is not JSON"); return; }
      const res = await post("/api/actors/" + encodeURIComponent(actor.sessionId) + "/events", { ...extra, type: select.value });
      showResult(res.ok ? "sent " + select.value : "refused: " + (await res.json()).error);
    } }, $("label", {}, "send event"), select, $("label", {}, "payload (JSON)"), payload, $("button", { class: "action", type: "submit" }, "Send"), result));
  }
  for (const command of actor.commands) {
    const inputs = command.fields.map((f) => { const i = $("input", { name: f.name, type: f.kind === "number" ? "number" : "text", "data-testid": "command-" + command.name + "-" + f.name }); i.value = f.initial; return i; });
    controls.append($("form", { "data-testid": "command-" + command.name, onsubmit: async (e) => {
      e.preventDefault();
      await post("/api/actors/" + encodeURIComponent(actor.sessionId) + "/commands/" + encodeURIComponent(command.name), Object.fromEntries(inputs.map((i) => [i.name, i.value])));
    } }, $("label", {}, command.label), ...command.fields.flatMap((f, n) => [$("label", {}, f.name), inputs[n]]), $("button", { class: "action", type: "submit" }, command.label)));
  }
  if (controls.childNodes.length === 1) controls.append($("p", { class: "empty" }, "This actor takes no events."));
  right.append(controls);
  right.append($("section", {}, $("h3", {}, "event timeline"), $("ul", { class: "timeline", "data-testid": "timeline" },
    ...[...actor.timeline].reverse().map((t) => $("li", {}, new Date(t.at).toISOString().slice(11, 23), " ", $("span", { class: "type" }, t.type), Object.keys(t.payload ?? {}).length ? " " + JSON.stringify(t.payload) : "")))));
  main.replaceChildren(left, right);
};
const renderClock = () => {
  const box = document.querySelector(".clock");
  if (!state.clock) { box.replaceChildren(); return; }
  box.replaceChildren($("span", { "data-testid": "clock-status" }, (state.clock.paused ? "paused at " : "running, ") + new Date(state.clock.now).toISOString().slice(11, 23)),
    state.clock.paused ? $("button", { class: "action", onclick: () => post("/api/clock/resume", {}) }, "Resume") : $("button", { class: "action", onclick: () => post("/api/clock/pause", {}) }, "Pause"),
    $("button", { class: "action", "data-testid": "clock-step", onclick: () => post("/api/clock/step", {}) }, "Step"));
};
const render = () => {
  // Keep what a person is typing: redraw the forms only when the selected actor changes shape.
  const active = document.activeElement;
  const typing = active && (active.tagName === "TEXTAREA" || active.tagName === "INPUT" || active.tagName === "SELECT") && active.closest("main");
  document.title = state.title;
  document.querySelector("header h1").textContent = state.title;
  renderNav();
  renderClock();
  if (!typing) renderMain();
};
const onState = (data) => {
  state = JSON.parse(data);
  if (selected === null && state.actors.length > 0) selected = (state.actors.find((a) => a.group === "devices") ?? state.actors[0]).sessionId;
  render();
};
// Server-Sent Events read through fetch: EventSource cannot send the bearer token.
const follow = async () => {
  const res = await fetch("/api/stream", { headers: authorization });
  if (res.status === 401) { document.querySelector("main").replaceChildren($("p", { class: "empty" }, "Open the inspector with the address it printed at start (it carries its token).")); return; }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    let end;
    while ((end = buffered.indexOf("\\n\\n")) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event.split("\\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\\n");
      if (data !== "") onState(data);
    }
  }
};
follow();
`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const inspectorPage = (title: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(title)}</h1><div class="clock"></div></header><nav></nav><main><p class="empty">Connecting…</p></main>
<script>${SCRIPT}</script></body></html>`;
