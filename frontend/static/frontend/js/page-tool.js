// Tool pages (capture, variations, upscale): "not available yet" until the tool's job kind exists,
// then a form built from the kind's parameters (GET /api/v1/job-kinds) plus the tool's own inputs.
import { api, projectPath } from "./api.js";
import { uploadFiles, watchJob } from "./assets.js";
import { captureForm, captureSummary } from "./capture.js";
import { buildKindFields, jobKinds, projectInputs, startJob } from "./jobform.js";
import { jobRow } from "./jobs.js";
import { compareViews, tileGrid } from "./setviews.js";
import { $, emptyState, formError, h, mainData, setBusy, toast } from "./ui.js";

const { project, tool, toolApi, kind, role } = mainData();
const body = $("#tool-body");
const OVERRIDES = {
  strength: { label: "Variation strength", ends: ["Close to the original layout", "Completely new arrangement"] },
  variation_strength: { label: "Variation strength", ends: ["Close to the original layout", "Completely new arrangement"] },
  alpha: { label: "Fidelity ↔ sharpness", ends: ["Fidelity", "Sharpness"] },
  sharpness: { label: "Fidelity ↔ sharpness", ends: ["Fidelity", "Sharpness"] },
};

function notAvailable(title) {
  body.replaceChildren(h("section", { class: "card", id: "not-available" }, emptyState(`${title} is not available yet`,
    `This server does not offer the ${kind} job kind yet. This page starts working as soon as it does; ` +
    "meanwhile you can upload assets and preview materials.",
    h("p", {}, h("a", { class: "button", href: `/projects/${project}/` }, "Back to the assets")))));
}

// The job #tool-job shows: a job started later (from another form on the page) takes the box over,
// and an earlier one's updates and result are dropped.
let shownJob = 0;

/** Shows a job live in #tool-job; resolves with the finished job. */
async function followJob(job, titles) {
  const token = ++shownJob;
  const box = $("#tool-job");
  box.hidden = false;
  const row = jobRow(project, job, titles, { role });
  box.replaceChildren(h("h2", {}, "Progress"), row);
  box.scrollIntoView({ behavior: "smooth", block: "nearest" });
  const done = await watchJob(project, job.id, (fresh) => token === shownJob && row.update(fresh));
  if (token === shownJob && done.status === "succeeded" && done.output_set) {
    const set = await api(projectPath(project, `/sets/${done.output_set}`));
    const result = h("div", {}, h("h2", {}, "Result"),
      h("p", {}, h("a", { class: "button primary", href: `/projects/${project}/sets/${set.id}/` },
        tool === "capture" ? "Open the material (3D preview, downloads)" : "Open the result set")));
    if (tool === "variations") result.append(tileGrid(set.assets.filter((a) => ["texture", "albedo"].includes(a.role))));
    if (tool === "upscale") result.append(...await compareViews(project, set.assets));
    if (tool === "capture" && done.result) result.append(captureSummary(done.result));
    if (token === shownJob) box.append(result);
  }
  return done;
}

async function genericForm(spec, choices, titles, { skip = [], heading } = {}) {
  const form = h("form", { class: "form", novalidate: false });
  const fields = h("div");
  const picker = buildKindFields(fields, spec, choices, { idPrefix: spec.kind.replace(/\W/g, "-"), skip, overrides: OVERRIDES });
  const submit = h("button", { type: "submit", class: "button primary" }, `Start ${spec.title.toLowerCase()}`);
  form.append(fields, submit, h("p", { class: "error", role: "alert", hidden: true }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError(form, null);
    // One job at a time per form: the button comes back when the job has finished.
    submit.disabled = true;
    try { await followJob(await startJob(project, spec.kind, picker.params(form), picker.inputs(form)), titles); }
    catch (error) { formError(form, error.message); }
    submit.disabled = false;
  });
  return h("section", { class: "card" }, heading ? h("h2", {}, heading) : null, form);
}

// -- variations: pick a texture or material set, or upload a texture first ------------------------------

async function variationsForm(spec, choices, titles) {
  const section = await genericForm(spec, choices, titles);
  const assetInput = Object.entries(spec.inputs).find(([, s]) => s.kind === "asset");
  if (!assetInput) return section;
  const file = h("input", { type: "file", id: "variation-upload", accept: "image/*,.exr,.tif,.tiff" });
  file.addEventListener("change", async () => {
    if (!file.files[0]) return;
    try {
      const uploaded = await uploadFiles(project, [file.files[0]], ["texture"], { name: file.files[0].name.replace(/\.[^.]+$/, "") });
      const asset = uploaded.assets[0];
      const select = section.querySelector(`[name="input:${assetInput[0]}"]`);
      select.append(h("option", { value: asset.id, selected: true }, `${uploaded.set.name} / ${asset.name} (${asset.width}×${asset.height})`));
      select.value = asset.id;
      toast(`Uploaded ${asset.name}.`);
    } catch (error) { toast(error.message, "error"); }
  });
  section.querySelector("form").prepend(h("label", { for: "variation-upload" }, "Upload a new texture"), file,
    h("p", { class: "help" }, "or choose a texture or material set already in the project below."));
  return section;
}

async function main() {
  const title = $("h1").textContent;
  try {
    const [status, kinds] = await Promise.all([api(`/api/v1/tools/${toolApi}/`), jobKinds()]);
    const titles = Object.fromEntries(kinds.map((k) => [k.kind, k.title]));
    const spec = kinds.find((k) => k.kind === kind);
    if (!status.kinds[kind] || !spec) { notAvailable(title); return; }
    if (role === "viewer") {
      body.replaceChildren(emptyState("Editors run tools", "You are a viewer in this project; ask an owner for the editor role."));
      return;
    }
    const choices = await projectInputs(project);
    const sections = [];
    if (tool === "capture") sections.push(await captureForm(project, spec, { onJob: (job) => followJob(job, titles), overrides: OVERRIDES }));
    else if (tool === "variations") sections.push(await variationsForm(spec, choices, titles));
    else sections.push(await genericForm(spec, choices, titles));
    // The tool's other kinds (make tileable, fine-tuning), once they exist.
    for (const [other, available] of Object.entries(status.kinds)) {
      const otherSpec = kinds.find((k) => k.kind === other);
      if (other !== kind && available && otherSpec) sections.push(await genericForm(otherSpec, choices, titles, { heading: otherSpec.title }));
    }
    body.replaceChildren(...sections);
  } catch (error) {
    body.replaceChildren(emptyState("Could not load this tool", error.message));
  } finally {
    setBusy(body, false);
  }
}

main();
