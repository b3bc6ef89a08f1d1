import { api, apiAll } from "./api.js";
import { $, emptyState, formError, formatDate, h, setBusy, toast } from "./ui.js";

const list = $("#project-list");

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

load();
