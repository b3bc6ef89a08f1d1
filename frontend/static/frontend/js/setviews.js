// Result views shared by the set page and the tool pages: tiled variations and before/after comparison.
import { api, projectPath } from "./api.js";
import { WEB_FORMATS } from "./assets.js";
import { h } from "./ui.js";

/** Each image as a tile; hover (or the toggle) shows it repeated 2×2 so seams stand out. */
export function tileGrid(assets) {
  const images = assets.filter((a) => WEB_FORMATS.includes(a.format) && a.role !== "thumbnail");
  const grid = h("div", { class: "tile-grid" }, images.map((a) => h("div", { class: "tile-item" },
    h("figure", {}, h("div", { class: "tile-view", role: "img", "aria-label": a.name,
      // The tile's own proportions: a 2:1 texture is not squeezed into a square.
      style: { backgroundImage: `url("${a.download_url}")`, aspectRatio: a.width && a.height ? `${a.width} / ${a.height}` : "1" } }),
    h("figcaption", { class: "small muted" }, `${a.name} · ${a.width}×${a.height}`)))));
  const toggle = h("label", { class: "check" }, h("input", { type: "checkbox", onchange: (e) => grid.classList.toggle("tiled", e.target.checked) }),
    " Show every tile repeated 2×2 (check seams)");
  return h("div", {}, h("p", { class: "form" }, toggle), grid);
}

/** A before/after slider: the source asset (scaled up, nearest neighbour) against the result. */
export function compareView(before, after) {
  const beforeImg = h("img", { class: "before", src: before.download_url, alt: `Before: ${before.name}` });
  const afterImg = h("img", { class: "after", src: after.download_url, alt: `After: ${after.name}` });
  const divider = h("div", { class: "divider" });
  const box = h("div", { class: "compare" }, afterImg, beforeImg, divider);
  box.style.aspectRatio = `${after.width} / ${after.height}`;
  const slider = h("input", { type: "range", min: 0, max: 100, value: 50, "aria-label": `Before/after position for ${after.name}`,
    oninput: (e) => { beforeImg.style.clipPath = `inset(0 ${100 - e.target.value}% 0 0)`; divider.style.left = `${e.target.value}%`; } });
  slider.style.width = "100%";
  slider.style.maxWidth = "40rem";
  return h("figure", { style: { margin: "0 0 1rem" } }, box,
    h("div", { class: "compare-label" }, h("span", {}, `Before ${before.width}×${before.height}`), h("span", {}, `After ${after.width}×${after.height}`)),
    slider, h("figcaption", { class: "small muted" }, after.name));
}

/** Compare views for every output asset that names its source. */
export async function compareViews(projectId, assets) {
  const pairs = assets.filter((a) => a.source && a.role !== "thumbnail" && WEB_FORMATS.includes(a.format));
  const views = [];
  for (const after of pairs.slice(0, 12)) {
    try {
      const before = await api(projectPath(projectId, `/assets/${after.source}`));
      if (WEB_FORMATS.includes(before.format)) views.push(compareView(before, after));
    } catch { /* the source was deleted: nothing to compare */ }
  }
  return views;
}
