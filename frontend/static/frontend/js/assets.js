// Asset helpers shared by the project, set and tool pages.
import { api, apiAll, projectPath } from "./api.js";

export const ROLES = ["texture", "albedo", "normal", "roughness", "glossiness", "specular", "anisotropy",
  "height", "ao", "metallic", "mask", "flash", "guide"];
export const MATERIAL_ROLES = ["albedo", "normal", "roughness", "glossiness", "specular", "anisotropy", "ao"];
// Formats a browser can show in <img> and three.js can load.
export const WEB_FORMATS = ["png", "jpeg", "webp"];

/** A role from a file name: "wall_normal.png" -> "normal"; unknown -> "texture". */
export function guessRole(filename) {
  const name = filename.toLowerCase().replace(/\.[a-z0-9]+$/, "");
  const rules = [
    [/(albedo|basecolou?r|base_colou?r|diffuse|diff|col(ou?r)?)$/, "albedo"],
    [/(normal|nrm|norm|nor)(_?gl)?$/, "normal"], [/(roughness|rough|rgh)$/, "roughness"],
    [/(glossiness|gloss)$/, "glossiness"], [/(specular|spec)$/, "specular"], [/(anisotropy|aniso)$/, "anisotropy"],
    [/(height|disp(lacement)?|bump)$/, "height"], [/(ao|occlusion|ambient_?occlusion)$/, "ao"],
    [/(metallic|metalness|metal)$/, "metallic"], [/mask$/, "mask"], [/flash$/, "flash"], [/(guide|noflash)$/, "guide"],
  ];
  for (const [pattern, role] of rules) if (pattern.test(name)) return role;
  return "texture";
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
