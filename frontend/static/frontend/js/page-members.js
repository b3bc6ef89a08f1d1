import { api, apiAll, projectPath } from "./api.js";
import { $, emptyState, formError, formatDate, h, mainData, setBusy, toast } from "./ui.js";

const { project, role } = mainData();
const list = $("#member-list");
// The page's role; follows the member list, so an owner who demotes themself loses the owner controls.
let isOwner = role === "owner";
const ROLES = ["viewer", "editor", "owner"];

function memberRow(member, me) {
  const roleCell = isOwner
    ? h("select", { "aria-label": `Role of ${member.username}`, onchange: async (event) => {
        try {
          await api(projectPath(project, `/members/${member.id}`), { method: "PATCH", json: { role: event.target.value } });
          toast(`${member.username} is now ${event.target.value}.`);
        } catch (error) { toast(error.message, "error"); }
        load();
      } }, ROLES.map((r) => h("option", { value: r, selected: r === member.role }, r)))
    : h("span", { class: "badge" }, member.role);
  const self = member.username === me;
  const remove = (isOwner || self) ? h("button", { type: "button", class: "button small danger",
    onclick: async () => {
      if (!confirm(self ? "Leave this project?" : member.accepted === false ? `Withdraw the invitation to ${member.username}?`
        : `Remove ${member.username} from the project?`)) return;
      try {
        await api(projectPath(project, `/members/${member.id}`), { method: "DELETE" });
        if (self) { window.location.href = "/"; return; }
        toast(`${member.username} removed.`); load();
      } catch (error) { toast(error.message, "error"); }
    } }, self ? "Leave" : member.accepted === false ? "Withdraw" : "Remove") : null;
  return h("tr", { "data-member": member.username },
    h("td", {}, member.username, self ? h("span", { class: "muted" }, " (you)") : null,
      member.accepted === false ? h("span", { class: "badge", title: `Invited by ${member.invited_by || "an owner"}; joins on accepting` }, "invited") : null),
    // Only owners see other members' addresses (the API sends them empty).
    h("td", {}, member.email || h("span", { class: "muted", title: "Shown to the project's owners" }, "—")), h("td", {}, roleCell), h("td", {}, formatDate(member.created_at)), h("td", {}, remove));
}

async function load() {
  setBusy(list, true);
  try {
    const [members, me] = await Promise.all([apiAll(projectPath(project, "/members")), api("/me")]);
    const mine = members.find((m) => m.username === me.username);
    if (mine) {
      isOwner = mine.role === "owner";
      mainData().role = mine.role;
      const badge = $(".subnav-title .badge");
      if (badge) badge.textContent = mine.role;
      const addSection = $("#add-member")?.closest("section");
      if (addSection) addSection.hidden = !isOwner;
    }
    list.replaceChildren(members.length ? h("div", { class: "table-wrap" }, h("table", { class: "table" },
      h("thead", {}, h("tr", {}, ...["User", "E-mail", "Role", "Since", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, members.map((m) => memberRow(m, me.username))))) : emptyState("No members", ""));
  } catch (error) {
    list.replaceChildren(emptyState("Could not load the members", error.message));
  }
  setBusy(list, false);
}

$("#add-member")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  formError(form, null);
  try {
    const member = await api(projectPath(project, "/members"), { method: "POST",
      json: { username: form.username.value.trim(), role: form.role.value } });
    toast(`${member.username} is invited as ${member.role}; they join when they accept.`);
    form.reset();
    load();
  } catch (error) { formError(form, error.message); }
});

load();
