// Asset helpers shared by the project, set and tool pages.
import { api, apiAll, projectPath } from "./api.js";

export const ROLES = ["texture", "albedo", "normal", "roughness", "glossiness", "specular", "anisotropy",
  "height", "ao", "metallic", "mask", "flash", "guide"];
export const MATERIAL_ROLES = ["albedo", "normal", "roughness", "glossiness", "specular", "anisotropy", "ao"];
// Formats a browser can show in <img> and three.js can load.
export const WEB_FORMATS = ["png", "jpeg", "webp"];

// Role words end a file name after a separator ("wall_normal", "Bricks_NormalDX", "brick_diff_1k");
// "cacao" or "sheet-metal" alone say nothing about the map.
const SEP = "[_\\-. ]";
const ROLE_RULES = [
  [`(albedo|base${SEP}?colou?r|diffuse|diff|col(ou?r)?)`, "albedo"],
  [`(normal|nrm|norm|nor)(${SEP}?(gl|ogl|opengl|dx|directx))?`, "normal"], [`(roughness|rough|rgh)`, "roughness"],
  [`(glossiness|gloss)`, "glossiness"], [`(specular|spec)`, "specular"], [`(anisotropy|aniso)`, "anisotropy"],
  [`(height|disp(lacement)?|bump)`, "height"], [`(ao|occlusion|ambient${SEP}?occlusion)`, "ao"],
  [`(metallic|metalness)`, "metallic"], [`mask`, "mask"], [`(guide|noflash|no${SEP}flash)`, "guide"], [`flash`, "flash"],
].map(([words, role]) => [new RegExp(`(^|${SEP})${words}$`), role]);

/** The name without extension, camelCase split ("BaseColor" -> "base_color"), lower case, and its
 *  trailing resolution tag ("_2k") removed; `sized` says whether it had one. */
function roleStem(filename) {
  const stem = filename.replace(/\.[a-z0-9]+$/i, "").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  const bare = stem.replace(new RegExp(`${SEP}?\\d+k$`), "");
  return { stem: bare, sized: bare !== stem };
}

/** A role from a file name: "wall_normal.png" -> "normal", "brick_wall_001_diff_1k.png" -> "albedo";
 *  unknown -> "texture". */
export function guessRole(filename) {
  const { stem, sized } = roleStem(filename);
  for (const [pattern, role] of ROLE_RULES) if (pattern.test(stem)) return role;
  // "metal" alone is often what a texture shows ("sheet_metal"); with a size tag it is Poly Haven's metalness map.
  if (sized && new RegExp(`(^|${SEP})metal$`).test(stem)) return "metallic";
  return "texture";
}

/** Whether a file name says DirectX normal map ("_nor_dx", "NormalDX"): green points down, not up as
 *  the OpenGL convention the service reads normal maps in. */
export function isDirectXNormal(filename) {
  return new RegExp(`(^|${SEP})(normal|nrm|norm|nor)${SEP}?(dx|directx)$`).test(roleStem(filename).stem);
}

/** POST files to the project's upload endpoint: one request, one new asset set (or `set` to add to one). */
export async function uploadFiles(projectId, files, roles, { name, tags = [], set, previews = true } = {}) {
  const form = new FormData();
  files.forEach((file) => form.append("files", file, file.name));
  roles.forEach((role) => form.append("roles", role));
  if (name) form.append("name", name);
  if (set) form.append("set", set);
  tags.forEach((tag) => form.append("tags", tag));
  form.append("previews", previews ? "true" : "false");
  return api(projectPath(projectId, "/uploads"), { method: "POST", form });
}

// Small web images (job outputs get no previews job) can stand in for their own thumbnail.
const SMALL_IMAGE_BYTES = 1024 * 1024;

function thumbnailOf(asset) {
  if (asset.thumbnail_url) return asset.thumbnail_url;
  return WEB_FORMATS.includes(asset.format) && asset.byte_size <= SMALL_IMAGE_BYTES ? asset.download_url : null;
}

/** Map set id -> best thumbnail URL, from the project's assets (prefers albedo/texture maps). */
export async function thumbnailsBySet(projectId) {
  const assets = await apiAll(projectPath(projectId, "/assets"), 4000);
  const rank = (a) => (["albedo", "texture", "flash"].includes(a.role) ? 0 : a.role === "thumbnail" ? 2 : 1);
  const best = new Map();
  for (const asset of assets) {
    const url = thumbnailOf(asset);
    if (!url) continue;
    const current = best.get(asset.set);
    if (!current || rank(asset) < rank(current.asset)) best.set(asset.set, { asset, url });
  }
  return new Map([...best].map(([set, { url }]) => [set, url]));
}

/** Poll a job until it finishes; `onUpdate(job)` after each poll. Resolves with the final job. */
export async function watchJob(projectId, jobId, onUpdate = () => {}, intervalMs = 700) {
  for (;;) {
    const job = await api(projectPath(projectId, `/jobs/${jobId}`));
    onUpdate(job);
    if (!["queued", "running"].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
