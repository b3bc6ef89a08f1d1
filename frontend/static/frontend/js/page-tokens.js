import { api, apiAll } from "./api.js";
import { $, emptyState, formError, formatDate, h, setBusy, toast, wireCopyButtons } from "./ui.js";

const list = $("#token-list");
let shownToken = null; // the token whose key #new-token-result shows

function snippets(key) {
  const origin = window.location.origin;
  $("#token-key").value = key;
  $("#token-curl").textContent =
    `curl -H "Authorization: Token ${key}" ${origin}/api/v1/projects`;
  $("#token-python").textContent = [
    "import requests",
    "",
    `API = "${origin}/api/v1"`,
    "http = requests.Session()",
    `http.headers["Authorization"] = "Token ${key}"`,
    "",
    'for project in http.get(f"{API}/projects").json()["results"]:',
    '    print(project["id"], project["name"])',
  ].join("\n");
}

function tokenRow(token) {
  const revoked = Boolean(token.revoked_at);
  const revoke = h("button", { class: "button small danger", type: "button", disabled: revoked,
    "aria-label": `Revoke token ${token.name}` }, "Revoke");
  revoke.addEventListener("click", async () => {
    if (!confirm(`Revoke “${token.name}”? Scripts using it will stop working.`)) return;
    try {
      await api(`/tokens/${token.id}`, { method: "DELETE" });
      // A revoked key is of no use: stop showing it and its snippets.
      if (token.id === shownToken) { $("#new-token-result").hidden = true; snippets(""); shownToken = null; }
      toast("Token revoked.");
      load();
    }
    catch (error) { toast(error.message, "error"); }
  });
  return h("tr", { class: revoked ? "muted" : "" },
    h("td", {}, token.name), h("td", { class: "mono" }, `${token.prefix}…`),
    h("td", {}, formatDate(token.created_at)), h("td", {}, token.last_used_at ? formatDate(token.last_used_at) : "never"),
    h("td", {}, revoked ? h("span", { class: "badge failed" }, `revoked ${formatDate(token.revoked_at)}`) : h("span", { class: "badge succeeded" }, "active")),
    h("td", {}, revoke));
}

async function load() {
  setBusy(list, true);
  try {
    const tokens = await apiAll("/tokens");
    if (!tokens.length) {
      list.replaceChildren(emptyState("No tokens yet", "Create one above for each script or machine, so you can revoke them one by one."));
    } else {
      list.replaceChildren(h("div", { class: "table-wrap" }, h("table", { class: "table" },
        h("thead", {}, h("tr", {}, ...["Name", "Key", "Created", "Last used", "Status", ""].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, tokens.map(tokenRow)))));
    }
  } catch (error) {
    list.replaceChildren(emptyState("Could not load your tokens", error.message));
  }
  setBusy(list, false);
}

$("#new-token").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  formError(form, null);
  try {
    const token = await api("/tokens", { method: "POST", json: { name: form.name.value.trim() } });
    snippets(token.key);
    shownToken = token.id;
    $("#new-token-result").hidden = false;
    form.reset();
    $("#token-key").select();
    load();
  } catch (error) {
    formError(form, error.message);
  }
});

wireCopyButtons();
load();
