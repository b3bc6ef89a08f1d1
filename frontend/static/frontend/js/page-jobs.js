import { api, projectPath } from "./api.js";
import { buildKindFields, jobKinds, projectInputs, startJob } from "./jobform.js";
import { ACTIVE, jobRow } from "./jobs.js";
import { $, emptyState, formError, h, mainData, setBusy, toast } from "./ui.js";

const { project, role } = mainData();
const list = $("#job-list");
const rows = new Map();
let titles = {};
let timer = null;
// The newest `shown` jobs are polled; "Load more" shows the next page's worth too.
const PAGE = 50;
let shown = PAGE;

async function refresh() {
  clearTimeout(timer);
  let active = false;
  try {
    const status = $("#job-status").value;
    const page = await api(projectPath(project, `/jobs?page_size=${shown}${status ? `&status=${status}` : ""}`));
    $("#jobs-more").hidden = !page.next || shown >= 500;  // 500: the API's largest page
    const seen = new Set();
    const ordered = page.results.map((job) => {
      seen.add(job.id);
      active ||= ACTIVE.includes(job.status);
      const row = rows.get(job.id);
      if (row) { row.update(job); return row; }
      const fresh = jobRow(project, job, titles, { role });
      rows.set(job.id, fresh);
      return fresh;
    });
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    if (!ordered.length) {
      list.replaceChildren(emptyState("No jobs yet", "Jobs appear here when you upload files (previews), or run a capture, variations or upscale."));
    } else if (ordered.some((row, i) => list.children[i] !== row) || list.children.length !== ordered.length) {
      list.replaceChildren(...ordered);
    }
  } catch (error) {
    list.replaceChildren(emptyState("Could not load the jobs", error.message));
  }
  setBusy(list, false);
  // Fast polling while something runs; slow otherwise (a job may be started elsewhere, e.g. by a pipeline).
  timer = setTimeout(refresh, document.hidden ? 10000 : active ? 700 : 4000);
}

document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
$("#job-status").addEventListener("change", () => { rows.clear(); list.replaceChildren(); shown = PAGE; refresh(); });
$("#jobs-more").addEventListener("click", () => { shown = Math.min(shown + PAGE, 500); refresh(); });

async function setupForm() {
  const form = $("#job-form");
  if (!form) return;
  const [kinds, choices] = await Promise.all([jobKinds(), projectInputs(project)]);
  const select = $("#job-kind");
  select.replaceChildren(...kinds.map((k) => h("option", { value: k.kind }, `${k.title} (${k.kind})`)));
  let fields;
  const render = () => {
    const kind = kinds.find((k) => k.kind === select.value);
    fields = buildKindFields($("#job-fields"), kind, choices);
  };
  select.addEventListener("change", render);
  render();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError(form, null);
    try {
      const job = await startJob(project, select.value, fields.params(form), fields.inputs(form));
      toast(`Job started: ${titles[job.kind] || job.kind}.`);
      refresh();
    } catch (error) { formError(form, error.message); }
  });
}

jobKinds().then((kinds) => { titles = Object.fromEntries(kinds.map((k) => [k.kind, k.title])); })
  .catch(() => {}).finally(() => { refresh(); setupForm().catch((e) => toast(e.message, "error")); });
