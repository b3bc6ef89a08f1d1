import { api, apiAll } from "./api.js";
import { $, emptyState, formError, formatDate, h, setBusy, toast } from "./ui.js";

const list = $("#project-list");
const invitations = $("#invitations");

// An owner's invitation grants nothing until it is accepted here.
function invitationItem(invitation) {
  const answer = async (accept) => {
    try {
      if (accept) {
        const project = await api(`/invitations/${invitation.id}/accept`, { method: "POST" });
        toast(`You joined “${project.name}” as ${project.role}.`);
      } else {
        await api(`/invitations/${invitation.id}`, { method: "DELETE" });
        toast(`Invitation to “${invitation.project.name}” declined.`);
      }
    } catch (error) { toast(error.message, "error"); }
    loadInvitations();
    load();
  };
  return h("li", { class: "invitation", "data-invitation": invitation.id },
    h("span", {}, h("strong", {}, invitation.project.name), ` — ${invitation.invited_by || "an owner"} invites you as `,
      h("span", { class: "badge" }, invitation.role), h("span", { class: "muted small" }, ` · ${formatDate(invitation.created_at)}`)),
    h("span", { class: "actions" },
      h("button", { type: "button", class: "button small primary", onclick: () => answer(true) }, "Accept"),
      h("button", { type: "button", class: "button small", onclick: () => answer(false) }, "Decline")));
}

async function loadInvitations() {
  try {
    const pending = await apiAll("/invitations");
    $("#invitation-list").replaceChildren(...pending.map(invitationItem));
    invitations.hidden = pending.length === 0;
  } catch (error) {
    invitations.hidden = true;  // the project list says what went wrong with the API
  }
}

function projectCard(project) {
  return h("a", { class: "project-card", href: `/projects/${project.id}/` },
    h("h3", {}, project.name),
    project.description ? h("p", { class: "muted small" }, project.description) : null,
    h("div", { class: "small muted" }, h("span", { class: "badge" }, project.role), " · created ", formatDate(project.created_at)));
}

async function load() {
  setBusy(list, true);
  try {
    const projects = await apiAll("/projects");
    list.replaceChildren(...(projects.length ? projects.map(projectCard)
      : [emptyState("No projects yet", "Create your first project with the form on the right; you will be its owner.")]));
  } catch (error) {
    list.replaceChildren(emptyState("Could not load your projects", error.message));
  }
  setBusy(list, false);
}

$("#new-project").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  formError(form, null);
  try {
    const project = await api("/projects", { method: "POST", json: {
      name: form.name.value.trim(), description: form.description.value.trim() } });
    toast(`Project “${project.name}” created.`);
    window.location.href = `/projects/${project.id}/`;
  } catch (error) {
    formError(form, error.message);
  }
});

loadInvitations();
load();
