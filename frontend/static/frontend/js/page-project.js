import { api, projectPath } from "./api.js";
import { ROLES, guessRole, isDirectXNormal, thumbnailsBySet, uploadFiles, watchJob } from "./assets.js";
import { $, emptyState, formError, formatBytes, formatDate, h, mainData, setBusy, toast } from "./ui.js";

const { project, role } = mainData();
const grid = $("#set-grid");
const loadMore = $("#load-more");
const KIND_LABELS = { upload: "upload", material: "material", "texture-variations": "variations",
  upscale: "upscale", preview: "preview", export: "export" };

// -- asset-set grid -------------------------------------------------------------------------

let nextPage = null;
let thumbnails = new Map();
let latestRequest = 0;
const pendingPreviews = new Set(); // sets whose thumbnails a previews job is still making

function filters() {
  const params = new URLSearchParams({ page_size: "48" });
  // Previews are derived files; they show on their originals' cards unless asked for.
  if ($("#set-kind").value) params.set("kind", $("#set-kind").value);
  else params.set("exclude_kind", "preview");
  if ($("#set-tag").value.trim()) params.set("tag", $("#set-tag").value.trim());
  if ($("#set-search").value.trim()) params.set("search", $("#set-search").value.trim());
  return params;
}

function setCard(set) {
  const thumb = thumbnails.get(set.id);
  const picture = thumb ? h("img", { src: thumb, alt: "", loading: "lazy" })
    : h("span", {}, pendingPreviews.has(set.id) ? "Making thumbnail…" : "No preview");
  return h("a", { class: "set-card", href: `/projects/${project}/sets/${set.id}/`, dataset: { set: set.id } },
    h("div", { class: "thumb" }, picture),
    h("div", { class: "body" },
      h("div", { class: "name", title: set.name }, set.name || "Untitled set"),
      h("div", { class: "meta" }, h("span", { class: "badge" }, KIND_LABELS[set.kind] || set.kind), " ",
        `${set.asset_count} file${set.asset_count === 1 ? "" : "s"} · ${formatDate(set.created_at)}`),
      set.tags.length ? h("div", {}, set.tags.map((t) => h("span", { class: "tag" }, t))) : null));
}

// Thumbnails come from the project's asset list: fetched on load and after uploads, not per keystroke.
async function loadSets({ append = false, refreshThumbnails = false } = {}) {
  setBusy(grid, true);
  const request = ++latestRequest;
  try {
    const url = append ? nextPage : projectPath(project, `/sets?${filters()}`);
    const [page, thumbs] = await Promise.all([api(url), refreshThumbnails ? thumbnailsBySet(project) : thumbnails]);
    thumbnails = thumbs;
    if (request !== latestRequest) return; // a newer search has been sent since: its answer wins
    const sets = page.results;
    nextPage = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
    loadMore.hidden = !nextPage;
    if (!append) grid.replaceChildren();
    grid.append(...sets.map(setCard));
    // Offer the tags seen so far as suggestions for the tag filter.
    const known = new Set([...$("#known-tags").options].map((o) => o.value));
    for (const tag of sets.flatMap((set) => set.tags)) {
      if (!known.has(tag)) { known.add(tag); $("#known-tags").append(h("option", { value: tag })); }
    }
    if (!grid.children.length) {
      const filtered = [...filters().keys()].some((key) => !["page_size", "exclude_kind"].includes(key));
      grid.replaceChildren(filtered
        ? emptyState("Nothing matches", "No asset set matches these filters; clear the search, kind or tag.")
        : emptyState("No assets yet", role === "viewer" ? "Editors of this project can upload textures and photos."
          : "Drop textures or photos on the upload area above, or start a capture, variations or upscale job."));
    }
  } catch (error) {
    grid.replaceChildren(emptyState("Could not load the asset sets", error.message));
  }
  setBusy(grid, false);
}

let searchTimer;
$("#set-search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => loadSets(), 250); });
$("#set-tag").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => loadSets(), 350); });
$("#set-kind").addEventListener("change", () => loadSets());
loadMore.addEventListener("click", () => loadSets({ append: true }));

// -- upload -------------------------------------------------------------------------------------

const dropzone = $("#dropzone");
const picker = $("#file-picker");
const uploadForm = $("#upload-form");
let queued = []; // [{file, role}]

function renderQueue() {
  uploadForm.hidden = queued.length === 0;
  $("#upload-files").replaceChildren(...queued.map((item, index) => h("tr", {},
    h("td", {}, item.file.name, isDirectXNormal(item.file.name) ? h("div", { class: "small warning dx-warning" },
      "A DirectX normal map (green points down): the service reads normal maps as OpenGL (green up), " +
      "so flip its green channel first or its relief shows inverted.") : null),
    h("td", {}, formatBytes(item.file.size)),
    h("td", {}, h("select", { "aria-label": `Role of ${item.file.name}`, onchange: (e) => { item.role = e.target.value; } },
      ROLES.map((r) => h("option", { value: r, selected: r === item.role }, r)))),
    h("td", {}, h("button", { type: "button", class: "button small subtle", "aria-label": `Remove ${item.file.name}`,
      onclick: () => { queued.splice(index, 1); renderQueue(); } }, "Remove")))));
  if (queued.length && !$("#upload-name").value) {
    $("#upload-name").value = queued[0].file.name.replace(/\.[^.]+$/, "").replace(/[_-](albedo|normal|roughness|specular|basecolou?r|diffuse)$/i, "");
  }
}

function addFiles(files) {
  for (const file of files) queued.push({ file, role: guessRole(file.name) });
  renderQueue();
}

if (dropzone) {
  dropzone.addEventListener("click", () => picker.click());
  dropzone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); picker.click(); } });
  picker.addEventListener("change", () => { addFiles(picker.files); picker.value = ""; });
  for (const type of ["dragenter", "dragover"]) dropzone.addEventListener(type, (e) => { e.preventDefault(); dropzone.classList.add("over"); });
  for (const type of ["dragleave", "drop"]) dropzone.addEventListener(type, () => dropzone.classList.remove("over"));
  dropzone.addEventListener("drop", (e) => { e.preventDefault(); addFiles(e.dataTransfer.files); });
  $("#upload-clear").addEventListener("click", () => { queued = []; $("#upload-name").value = ""; renderQueue(); });

  uploadForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError(uploadForm, null);
    const button = $("#upload-submit");
    button.disabled = true;
    $("#upload-status").textContent = `Uploading ${queued.length} file(s)…`;
    try {
      const tags = $("#upload-tags").value.split(",").map((t) => t.trim()).filter(Boolean);
      const result = await uploadFiles(project, queued.map((q) => q.file), queued.map((q) => q.role),
        { name: $("#upload-name").value.trim(), tags });
      toast(`Uploaded “${result.set.name}”.`);
      queued = [];
      uploadForm.reset();
      renderQueue();
      $("#upload-status").textContent = "";
      if (result.previews_job) {
        pendingPreviews.add(result.set.id);
        watchJob(project, result.previews_job).then(() => { pendingPreviews.delete(result.set.id); loadSets({ refreshThumbnails: true }); })
          .catch(() => pendingPreviews.delete(result.set.id));
      }
      loadSets();
    } catch (error) {
      formError(uploadForm, error.message);
      $("#upload-status").textContent = "";
    }
    button.disabled = false;
  });
}

loadSets({ refreshThumbnails: true });
