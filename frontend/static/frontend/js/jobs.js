// A job's row (progress bar, stage, cancel, error, result link), updated in place while polling.
import { api, projectPath } from "./api.js";
import { formatDate, formatDuration, h, toast } from "./ui.js";

export const ACTIVE = ["queued", "running"];

function duration(job) {
  if (!job.started_at) return "";
  const end = job.finished_at ? new Date(job.finished_at) : new Date();
  return formatDuration((end - new Date(job.started_at)) / 1000);
}

/** A row element for `job`; call row.update(job) with fresher data. `role`: the user's role in the
 *  project (viewers cannot cancel jobs, so they get no Cancel button). */
export function jobRow(projectId, job, titles = {}, { role = "editor" } = {}) {
  const bar = h("span");
  const progress = h("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
    "aria-label": `Progress of ${titles[job.kind] || job.kind}` }, bar);
  const badge = h("span", { class: "badge" });
  const percent = h("span", { class: "small muted percent" });
  const stage = h("div", { class: "stage" });
  const meta = h("div", { class: "small muted" });
  const error = h("p", { class: "error-text", role: "alert", hidden: true });
  const links = h("div", { class: "links" });
  const row = h("article", { class: "job", dataset: { job: job.id } },
    h("div", {}, h("div", { class: "title" }, titles[job.kind] || job.kind, " ", badge), meta),
    h("div", {}, h("div", { style: { display: "flex", gap: ".6rem", alignItems: "center" } },
      h("div", { style: { flex: "1" } }, progress), percent), stage),
    links, error);

  row.update = (fresh) => {
    job = fresh;
    row.dataset.status = job.status;
    const value = job.status === "succeeded" ? 100 : Math.round((job.progress || 0) * 100);
    bar.style.width = `${value}%`;
    progress.className = `progress ${job.status}`;
    progress.setAttribute("aria-valuenow", String(value));
    percent.textContent = `${value}%`;
    badge.className = `badge ${job.status}`;
    badge.textContent = job.status;
    stage.textContent = job.status === "queued" ? "Waiting for a worker…"
      : job.status === "succeeded" ? "Done" : job.stage || (job.status === "running" ? "Starting…" : "");
    const attempts = job.attempts > 1 ? ` · attempt ${job.attempts} of ${job.max_attempts}` : "";
    meta.textContent = `queued ${formatDate(job.queued_at)}${duration(job) ? ` · ${duration(job)}` : ""}${attempts}`;
    error.hidden = !job.error;
    error.textContent = job.error ? `Error: ${job.error}` : "";
    links.replaceChildren();
    if (ACTIVE.includes(job.status) && role !== "viewer") {
      links.append(h("button", { type: "button", class: "button small danger", onclick: async (event) => {
        event.target.disabled = true;
        try { row.update(await api(projectPath(projectId, `/jobs/${job.id}/cancel`), { method: "POST" })); toast("Job cancelled."); }
        catch (err) { toast(err.message, "error"); event.target.disabled = false; }
      } }, "Cancel"));
    }
    if (job.output_set) {
      links.append(h("a", { class: "button small primary", href: `/projects/${projectId}/sets/${job.output_set}/` }, "Open result"));
    }
  };
  row.update(job);
  return row;
}
