// The privacy portal page: sign in with phone and one-time code, see what palmline holds, unlink
// the card, delete everything. Plain HTML and script, no external assets.
const STYLE = `
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
  body { margin: 0; } header { background: #1d2330; color: #fff; padding: 14px 24px; font-size: 18px; font-weight: 600; }
  main { max-width: 640px; margin: 24px auto; padding: 0 16px; display: grid; gap: 16px; }
  section { background: #fff; border: 1px solid #d8dce3; border-radius: 8px; padding: 16px 18px; }
  h2 { font-size: 15px; margin: 18px 0 8px; } section > h2:first-child { margin-top: 0; } p { margin: 6px 0; font-size: 14px; line-height: 1.45; }
  label { display: block; font-size: 13px; color: #4a5263; margin: 8px 0 4px; }
  input { font: inherit; font-size: 15px; padding: 7px 9px; border: 1px solid #b9c0cc; border-radius: 5px; width: 100%; box-sizing: border-box; }
  button { font: inherit; font-size: 14px; border: 0; border-radius: 5px; padding: 8px 14px; margin-top: 10px; cursor: pointer; background: #3a62d8; color: #fff; }
  button.danger { background: #c0392b; } button.plain { background: #e6e9ef; color: #1d2330; }
  dl { display: grid; grid-template-columns: 160px 1fr; gap: 6px 12px; font-size: 14px; margin: 0; } dt { color: #6b7385; }
  ul { margin: 4px 0; padding-left: 18px; font-size: 14px; } .message { font-size: 14px; color: #3a62d8; min-height: 1.2em; } .error { color: #c0392b; }
  .rule { background: #fff8e6; border: 1px solid #f0d58a; border-radius: 6px; padding: 10px 12px; }
`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const say = (id, text, isError) => { const el = $(id); el.textContent = text; el.className = "message" + (isError ? " error" : ""); };
const call = async (path, body) => {
  const res = await fetch(path, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { ok: res.ok, status: res.status, body: await res.json() };
};
const date = (ms) => new Date(ms).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
const show = (id, visible) => { $(id).hidden = !visible; };
const list = (id, items, empty) => { const ul = $(id); ul.replaceChildren(...(items.length ? items : [empty]).map((t) => { const li = document.createElement("li"); li.textContent = t; return li; })); };
async function loadAccount() {
  const me = await call("/portal/api/me");
  if (!me.ok) { show("sign-in", true); show("account", false); return; }
  const v = me.body;
  show("sign-in", false); show("account", true);
  $("enrolled-at").textContent = date(v.enrolledAt);
  $("last-seen").textContent = date(v.lastSeenAt);
  $("card").textContent = v.card ? v.card.brand.toUpperCase() + " ending " + v.card.last4 + ", expires " + String(v.card.expiryMonth).padStart(2, "0") + "/" + v.card.expiryYear : "no card linked";
  $("loyalty").textContent = v.loyaltyCard ?? "none";
  $("unlink").hidden = !v.card;
  list("entitlements", v.entitlements.map((e) => e.description + (e.validUntil ? " (until " + date(e.validUntil) + ")" : "")), "none");
  list("open-transactions", v.openTransactions.map((t) => t.merchant + ", authorized " + new Date(t.authorizedAt).toLocaleString() + " (" + t.reference + ")"), "none");
  if (v.deletionPending) say("delete-message", "Deletion requested: it completes automatically when your open payments settle.");
}
$("send-code").addEventListener("click", async () => {
  const r = await call("/portal/api/code", { phone: $("phone").value.trim() });
  if (r.ok) { say("sign-in-message", "We sent a 6-digit code to your phone."); show("code-step", true); $("code").focus(); }
  else say("sign-in-message", r.body.error, true);
});
$("sign-in-button").addEventListener("click", async () => {
  const r = await call("/portal/api/session", { phone: $("phone").value.trim(), code: $("code").value.trim() });
  if (r.ok) { say("sign-in-message", ""); await loadAccount(); } else say("sign-in-message", r.body.error, true);
});
$("unlink").addEventListener("click", async () => { const r = await call("/portal/api/card/unlink", {}); say("card-message", r.ok ? "Card unlinked." : r.body.error, !r.ok); await loadAccount(); });
$("delete").addEventListener("click", async () => {
  if (!$("confirm-delete").checked) { say("delete-message", "Tick the box to confirm first.", true); return; }
  const r = await call("/portal/api/delete", { confirm: true });
  if (!r.ok) { say("delete-message", r.body.error, true); return; }
  if (r.body.outcome === "deleted") { show("account", false); show("deleted", true); }
  else say("delete-message", "You have " + r.body.openTransactions + " open payment(s). Your deletion is recorded and completes automatically when the last one settles.");
});
$("sign-out").addEventListener("click", async () => { await call("/portal/api/sign-out", {}); location.reload(); });
loadAccount();
`;

export const portalPage = (): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>palmline — your palm identity</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><header>palmline — your palm identity</header><main>
<section id="sign-in"><h2>Sign in</h2>
  <p>Use the phone number you gave when you enrolled. We send you a one-time code.</p>
  <label for="phone">Phone number</label><input id="phone" inputmode="tel" autocomplete="tel" placeholder="+447700900123">
  <button id="send-code">Send code</button>
  <div id="code-step" hidden><label for="code">6-digit code</label><input id="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6"><button id="sign-in-button">Sign in</button></div>
  <p id="sign-in-message" class="message"></p></section>
<section id="account" hidden><h2>What palmline holds about you</h2>
  <dl><dt>Enrolled</dt><dd id="enrolled-at"></dd><dt>Last used</dt><dd id="last-seen"></dd>
  <dt>Payment card</dt><dd id="card"></dd><dt>Loyalty card</dt><dd id="loyalty"></dd></dl>
  <p>Your palm is kept only as an encrypted signature, never as an image. Your card number is held by the payment processor, not by palmline.</p>
  <button id="unlink" class="plain">Unlink card</button><p id="card-message" class="message"></p>
  <h2>Tickets and badges</h2><ul id="entitlements"></ul>
  <h2>Open payments</h2><ul id="open-transactions"></ul>
  <h2>Delete everything</h2>
  <p class="rule">Deleting removes your palm signature from palmline&#39;s index and destroys the key that encrypts your data, so no copy of it, backups included, can be read again. If you have payments that are authorized but not yet settled, we record your request and finish deleting as soon as the last one settles.</p>
  <label><input type="checkbox" id="confirm-delete" style="width:auto"> I want palmline to delete my palm identity and everything linked to it</label>
  <button id="delete" class="danger">Delete my palm identity</button><p id="delete-message" class="message"></p>
  <button id="sign-out" class="plain">Sign out</button></section>
<section id="deleted" hidden><h2>Deleted</h2><p>Your palm identity and everything linked to it have been deleted. To pay with your palm again you would enroll afresh.</p></section>
</main><script>${SCRIPT}</script></body></html>`;
