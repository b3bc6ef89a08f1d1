import { api, projectPath } from "./api.js";
import { MATERIAL_ROLES, WEB_FORMATS } from "./assets.js";
import { compareViews, tileGrid } from "./setviews.js";
import { $, emptyState, formatBytes, formatDate, h, mainData, setBusy, toast } from "./ui.js";

const { project, set: setId, role } = mainData();

const BIT_DEPTH = { 8: "8-bit", 16: "16-bit", "32f": "32-bit float" };
const COLOUR = { srgb: "sRGB", linear: "linear" };

function assetTable(assets) {
  if (!assets.length) return emptyState("This set is empty", "");
  return h("div", { class: "table-wrap" }, h("table", { class: "table" },
    h("thead", {}, h("tr", {}, ...["", "Name", "Role", "Size", "Format", "Colour space", "File size", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, assets.map((a) => h("tr", { dataset: { asset: a.id } },
      h("td", {}, a.thumbnail_url ? h("img", { class: "thumb", src: a.thumbnail_url, alt: "", loading: "lazy" }) : h("span", { class: "thumb" })),
      h("td", {}, a.name, a.original_name && a.original_name !== a.name ? h("div", { class: "small muted" }, a.original_name) : null),
      h("td", {}, h("span", { class: "badge" }, a.role)),
      h("td", {}, `${a.width}×${a.height}`),
      // Files that are not images (a glTF model, a capture report) have no channels or colour of their own.
      h("td", {}, a.channels ? `${a.format.toUpperCase()} · ${BIT_DEPTH[a.bit_depth] || a.bit_depth} · ${a.channels} ch` : a.format.toUpperCase()),
      h("td", {}, a.channels ? COLOUR[a.colour_space] || a.colour_space : "–"),
      h("td", {}, formatBytes(a.byte_size)),
      h("td", {}, h("a", { class: "button small", href: a.download_url, download: a.name, "aria-label": `Download ${a.name}` }, "Download")))))));
}

/** Material maps grouped by name prefix ("v01_albedo.png" -> "v01"), so a set of several materials previews each. */
function materialGroups(assets) {
  const groups = new Map();
  for (const a of assets) {
    if (!MATERIAL_ROLES.includes(a.role) || !WEB_FORMATS.includes(a.format)) continue;
    const stem = a.name.replace(/\.[^.]+$/, "");
    const key = stem.toLowerCase().endsWith(a.role) ? stem.slice(0, stem.length - a.role.length).replace(/[_\-. ]+$/, "") : "";
    if (!groups.has(key)) groups.set(key, {});
    groups.get(key)[a.role] ??= a.download_url;
  }
  return groups;
}

async function showViewer(groups) {
  const section = $("#viewer-section");
  section.hidden = false;
  const canvas = $("#viewer-canvas");
  let viewer;
  try {
    const { MaterialViewer, wireLightPad } = await import("./viewer.js");
    viewer = new MaterialViewer(canvas);
    wireLightPad($("#light-pad"), viewer);
  } catch (error) {
    section.replaceChildren(h("h2", {}, "Material preview"), emptyState("The 3D preview cannot start here",
      `${error.message || error}. It needs WebGL and the front-end files installed by frontend/setup.sh.`));
    return;
  }
  const controls = $("#viewer-controls");
  controls.addEventListener("change", (e) => {
    if (e.target.name === "shape") viewer.setShape(e.target.value);
    if (e.target.name === "tiling") viewer.setTiling(Number(e.target.value));
  });
  $("#light-intensity").addEventListener("input", (e) => viewer.setLightIntensity(Number(e.target.value)));
  $("#env-intensity").addEventListener("input", (e) => viewer.setEnvironmentIntensity(Number(e.target.value)));
  const show = async (key) => {
    canvas.dataset.ready = "false";
    try {
      const roles = await viewer.setMaps(groups.get(key));
      $("#viewer-maps").textContent = `Maps: ${roles.join(", ")}.`;
      // Two frames: textures upload on the first draw; "ready" means they are on screen.
      viewer.requestRender();
      requestAnimationFrame(() => requestAnimationFrame(() => { canvas.dataset.ready = "true"; }));
    } catch (error) { toast(error.message, "error"); }
  };
  if (groups.size > 1) {
    const select = h("select", { id: "viewer-material", onchange: (e) => show(e.target.value) },
      [...groups.keys()].map((k) => h("option", { value: k }, k || "(unnamed)")));
    controls.prepend(h("label", { for: "viewer-material" }, "Material"), select);
  }
  show([...groups.keys()][0]);
}

/** Right after an upload the previews job is still running: fill the table's thumbnails in when it is done. */
const lacksThumbnails = (assets) => assets.some((a) => !a.thumbnail_url && !["thumbnail", "preview"].includes(a.role) && WEB_FORMATS.includes(a.format));

async function refreshThumbnails(assets, tries = 15) {
  if (!lacksThumbnails(assets) || tries <= 0) return;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  try {
    const fresh = await api(projectPath(project, `/sets/${setId}`));
    if (!lacksThumbnails(fresh.assets)) $("#asset-table").replaceChildren(assetTable(fresh.assets));
    else refreshThumbnails(fresh.assets, tries - 1);
  } catch { /* the table stays as it is, without thumbnails */ }
}

async function load() {
  const table = $("#asset-table");
  try {
    const set = await api(projectPath(project, `/sets/${setId}`));
    document.title = `${set.name} · ${document.title}`;
    $("#set-name").textContent = set.name || "Untitled set";
    $("#set-meta").replaceChildren(h("span", {}, h("span", { class: "badge" }, set.kind), ` ${set.asset_count} files · created ${formatDate(set.created_at)}`,
      set.job ? h("span", {}, " · made by a ", h("a", { href: `/projects/${project}/jobs/` }, "job")) : null,
      set.tags.length ? h("span", {}, " · ", set.tags.map((t) => h("span", { class: "tag" }, t))) : null));
    const actions = $("#set-actions");
    actions.replaceChildren(h("a", { class: "button primary", href: set.download_url, download: "", id: "download-zip" }, "Download all (zip)"));
    if (role !== "viewer") {
      actions.append(h("button", { type: "button", class: "button danger", onclick: async () => {
        if (!confirm(`Delete “${set.name}” and its ${set.asset_count} files?`)) return;
        try { await api(projectPath(project, `/sets/${setId}`), { method: "DELETE" }); window.location.href = `/projects/${project}/`; }
        catch (error) { toast(error.message, "error"); }
      } }, "Delete set"));
    }
    table.replaceChildren(assetTable(set.assets));
    // Only uploads get a previews job (job outputs never get thumbnails), and it runs right after the upload.
    if (set.kind === "upload" && Date.now() - new Date(set.created_at) < 10 * 60 * 1000) refreshThumbnails(set.assets);
    const groups = materialGroups(set.assets);
    if (groups.size) showViewer(groups);
    const special = $("#special-section");
    if (set.kind === "texture-variations") {
      special.hidden = false;
      special.replaceChildren(h("h2", {}, "Variations"), tileGrid(set.assets.filter((a) => ["texture", "albedo"].includes(a.role))));
    }
    const comparisons = set.kind === "upscale" ? await compareViews(project, set.assets) : [];
    if (comparisons.length) {
      special.hidden = false;
      special.append(h("h2", {}, "Before and after"), ...comparisons);
    }
  } catch (error) {
    table.replaceChildren(emptyState(error.status === 404 ? "No such asset set" : "Could not load the set", error.message));
  }
  setBusy(table, false);
}

load();
