// Capture page parts: a flash photo and a guide photo, checked side by side before submitting
// (sizes, EXIF focal length, over-exposure), then uploaded as one set and handed to the capture job.
import { api, projectPath } from "./api.js";
import { uploadFiles } from "./assets.js";
import { readFocalLength } from "./exif.js";
import { buildKindFields, startJob } from "./jobform.js";
import { formError, h } from "./ui.js";

// The capture job refuses photos under this many pixels on a side (materials/jobs.py MIN_SIDE).
export const MIN_SIDE = 64;

export function photoSlot(label) {
  const input = h("input", { type: "file", accept: "image/jpeg,image/png,image/heic,image/heif,image/x-adobe-dng,.jpg,.jpeg,.png,.heic,.heif,.dng",
    class: "visually-hidden", tabindex: "-1",
    id: `photo-${label}`, name: label });
  const preview = h("img", { alt: `${label} photo`, hidden: true });
  const caption = h("figcaption", {}, "");
  const zone = h("div", { class: "dropzone", tabindex: "0", role: "button", "aria-label": `Choose the ${label} photo` },
    h("p", {}, h("strong", {}, label === "flash" ? "Flash photo" : "Guide photo (no flash)")),
    h("p", { class: "muted small" }, "Drop it here or choose a file"), input);
  const slot = { file: null, info: null, element: h("figure", {}, zone, preview, caption) };
  let taking = 0; // a photo chosen while the previous one is still being read replaces it
  // A photo the capture cannot use leaves the slot empty, with the reason under it.
  const reject = (message) => {
    slot.file = slot.info = null;
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.removeAttribute("src");
    preview.hidden = true;
    input.value = "";
    caption.className = "error";
    caption.textContent = message;
  };
  const take = async (file) => {
    const token = ++taking;
    slot.file = slot.info = null;
    slot.onchange?.();
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.hidden = true;
    preview.src = URL.createObjectURL(file);
    caption.className = "";
    caption.textContent = `Reading ${file.name}…`;
    let info = null;
    try { info = await inspectPhoto(file, preview); } catch { /* not an image this browser decodes (HEIC in most browsers, DNG, other files) */ }
    if (token !== taking) return;
    const serviceChecked = info ? null : serviceCheckedFormat(file);
    if (serviceChecked) {
      // The service reads HEIC (iPhones' photos) and DNG (phones' RAW); browsers cannot show
      // them, so they are checked there.
      slot.file = file;
      if (preview.src) URL.revokeObjectURL(preview.src);
      preview.removeAttribute("src");
      caption.textContent = `${file.name} · ${serviceChecked}: checked by the service when the capture starts`;
    } else if (!info) {
      reject(`${file.name} is not a JPEG, PNG, HEIC or DNG photo: export it as JPEG, or convert other RAW files to DNG.`);
    }
    else if (Math.min(info.width, info.height) < MIN_SIDE) {
      reject(`${file.name} is ${info.width}×${info.height}: the capture needs photos at least ${MIN_SIDE} pixels on each side.`);
    } else {
      slot.file = file;
      slot.info = info;
      preview.hidden = false;
      caption.textContent = `${file.name} · ${info.width}×${info.height}` +
        (info.focal35 ? ` · ${info.focal35} mm (35 mm equiv.)` : "");
    }
    slot.onchange?.();
  };
  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  input.addEventListener("change", () => input.files[0] && take(input.files[0]));
  for (const t of ["dragenter", "dragover"]) zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); });
  for (const t of ["dragleave", "drop"]) zone.addEventListener(t, () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); if (e.dataTransfer.files[0]) take(e.dataTransfer.files[0]); });
  return slot;
}

/** "HEIC" or "DNG" for the photo formats the service reads but browsers do not show, else null. */
export function serviceCheckedFormat(file) {
  if (/\.(heic|heif)$/i.test(file.name) || /^image\/hei[cf]/.test(file.type)) return "HEIC";
  if (/\.dng$/i.test(file.name) || file.type === "image/x-adobe-dng") return "DNG";
  return null;
}

/** Size, EXIF focal length and the share of clipped pixels (on a ≤512 px copy). */
export async function inspectPhoto(file, img) {
  await img.decode();
  const exif = readFocalLength(await file.arrayBuffer());
  const scale = Math.min(1, 512 / Math.max(img.naturalWidth, img.naturalHeight));
  const canvas = h("canvas", { width: Math.round(img.naturalWidth * scale), height: Math.round(img.naturalHeight * scale) });
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let clipped = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] >= 250 || data[i + 1] >= 250 || data[i + 2] >= 250) clipped++;
  return { width: img.naturalWidth, height: img.naturalHeight, focal35: exif.FocalLengthIn35mmFilm,
    focal: exif.FocalLength, clipped: clipped / (data.length / 4) };
}

export function captureWarnings(flash, guide) {
  const out = [];
  if (flash.info && guide.info && (flash.info.width !== guide.info.width || flash.info.height !== guide.info.height)) {
    out.push(`The photos differ in size (${flash.info.width}×${flash.info.height} and ${guide.info.width}×${guide.info.height}): they will be aligned, but two shots from the same position work best.`);
  }
  for (const [name, slot] of [["flash", flash], ["guide", guide]]) {
    if (slot.info && !slot.info.focal35) out.push(`The ${name} photo has no EXIF 35 mm focal length: the field of view setting (default 65°) is used.`);
  }
  if (flash.info && flash.info.clipped > 0.02) {
    out.push(`${(flash.info.clipped * 100).toFixed(1)} % of the flash photo is over-exposed: step back or lower the exposure.`);
  }
  if (guide.info && guide.info.clipped > 0.02) out.push(`${(guide.info.clipped * 100).toFixed(1)} % of the guide photo is over-exposed.`);
  return out;
}

export async function captureForm(project, spec, { onJob, overrides = {} } = {}) {
  const names = Object.keys(spec.inputs);
  const flashName = names.find((n) => /flash/i.test(n)) || names[0];
  const guideName = names.find((n) => /guide/i.test(n)) || names[1];
  const flash = photoSlot("flash");
  const guide = photoSlot("guide");
  const warnings = h("ul", { class: "warnings", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "button primary", disabled: true }, "Capture the material");
  let running = false; // from the upload until the job has finished
  const refresh = () => {
    warnings.replaceChildren(...captureWarnings(flash, guide).map((w) => h("li", {}, w)));
    submit.disabled = running || !(flash.file && guide.file);
  };
  flash.onchange = guide.onchange = refresh;
  const fields = h("div");
  const picker = buildKindFields(fields, spec, { assets: [], sets: [] }, { idPrefix: "capture", skip: [flashName, guideName], overrides });
  const form = h("form", { class: "form" }, h("div", { class: "pair" }, flash.element, guide.element), warnings, fields, submit,
    h("p", { class: "error", role: "alert", hidden: true }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError(form, null);
    running = true;
    refresh();
    try {
      const uploaded = await uploadFiles(project, [flash.file, guide.file], ["flash", "guide"],
        { name: `Capture ${flash.file.name.replace(/\.[^.]+$/, "")}`, previews: true });
      const [flashAsset, guideAsset] = uploaded.assets;
      let job;
      try {
        job = await startJob(project, spec.kind, picker.params(form), { [flashName]: flashAsset.id, [guideName]: guideAsset.id });
      } catch (error) {
        // The photos were uploaded only for this job: a refused job (4xx) leaves no set behind.
        if (error.status >= 400 && error.status < 500) {
          await api(projectPath(project, `/sets/${uploaded.set.id}`), { method: "DELETE" }).catch(() => {});
        }
        throw error;
      }
      await onJob(job);
    } catch (error) { formError(form, error.message); }
    running = false;
    refresh();
  });
  return h("section", { class: "card" }, form);
}

// Hints under a finished capture (see the report fields in docs/capture.md).
const ROOM_HINT = 0.1;   // room light over a tenth of the flash photo's mean
const CLIP_HINT = 0.05;  // over 5 % of the flash photo saturated
const FEW_VIEWS = 16;    // fewer repeats per tile pixel than this

/** What a finished capture found (the job's result: the capture report), with hints where
 *  another pair of photos would do better. */
export function captureSummary(report) {
  const pct = (v) => `${(100 * v).toFixed(v < 0.1 ? 1 : 0)} %`;
  const rows = [];
  const add = (term, value) => rows.push(h("dt", {}, term), h("dd", {}, value));
  const tile = report.tile || {};
  const size = `${Math.round(tile.width)}×${Math.round(tile.height)} px`;
  add("Surface", report.surface === "periodic" ? `periodic: a ${size} tile repeats` : `stochastic: a ${size} tile, made seamless`);
  if (report.output_size) add("Maps", `${report.output_size[0]}×${report.output_size[1]} px (${report.output_resampling})`);
  if (report.height_depth != null) add("Relief depth (height map range)", `${pct(report.height_depth)} of the tile's width`);
  add("Views per tile pixel", String(report.matches_per_pixel_median));
  add("Flash photo re-rendered from the maps", `${report.rerender_psnr_db} dB PSNR`);
  const alignment = report.alignment || {};
  let aligned = alignment.error_px == null ? "no motion between the shots" : `${alignment.error_px.toFixed(2)} px residual`;
  if (alignment.zoom) aligned += `, scale corrected by ${(100 * alignment.zoom).toFixed(2)} %`;
  add("Alignment", aligned);
  const room = report.room_light_in_flash || [0];
  const roomLevel = room.reduce((a, b) => a + b, 0) / room.length;
  add("Room light in the flash photo", pct(roomLevel));
  if (report.flash_beam_corner != null) {
    const corner = report.flash_beam_corner;
    add("Flash beam in the corners", `${pct(Math.abs(1 - corner))} ${corner <= 1 ? "darker" : "brighter"} than a point light`);
  }
  const clipped = report.clipped_fraction || 0;
  add("Clipped in the flash photo", pct(clipped));
  const seconds = Object.entries(report.time_s || {})
    .filter(([stage]) => !stage.startsWith("fit_") || stage === "fit_s").reduce((sum, [, s]) => sum + s, 0);
  add("Time", `${seconds.toFixed(1)} s`);
  const hints = [];
  if (roomLevel > ROOM_HINT) hints.push(`The flash photo holds ${pct(roomLevel)} room light. It was separated from the flash's, but glossy and metal surfaces come out better with the room dimmed.`);
  if (clipped > CLIP_HINT) hints.push(`${pct(clipped)} of the flash photo is clipped: step back or lower the exposure.`);
  if (report.matches_per_pixel_median < FEW_VIEWS) hints.push("Few repeats were in view: photograph a larger area for more reliable maps.");
  return h("section", { class: "capture-summary" }, h("h3", {}, "Capture report"), h("dl", { class: "facts" }, ...rows),
    hints.length ? h("ul", { class: "warnings hints" }, ...hints.map((text) => h("li", {}, text))) : null);
}
