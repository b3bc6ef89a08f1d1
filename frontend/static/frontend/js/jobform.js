// Builds a job's parameter and input fields from GET /api/v1/job-kinds, so a tool's form
// follows its registry entry: new parameters appear without front-end changes.
import { api, apiAll, projectPath } from "./api.js";
import { h } from "./ui.js";

let kindsPromise = null;
export function jobKinds() {
  kindsPromise ??= api("/job-kinds").then((r) => r.results);
  return kindsPromise;
}

const label = (name) => name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

function paramField(name, spec, idPrefix, overrides = {}) {
  const id = `${idPrefix}-${name}`;
  const help = spec.help ? h("p", { class: "help", id: `${id}-help` }, spec.help) : null;
  const describedBy = help ? `${id}-help` : undefined;
  const custom = overrides[name] || {};
  let input;
  if (spec.choices) {
    input = h("select", { id, name, "aria-describedby": describedBy },
      spec.choices.map((c) => h("option", { value: c, selected: c === spec.default }, String(c))));
  } else if (spec.type === "boolean") {
    input = h("input", { id, name, type: "checkbox", checked: Boolean(spec.default), "aria-describedby": describedBy });
    return h("div", {}, h("label", { class: "check", for: id }, input, custom.label || label(name)), help);
  } else if (spec.type === "float" && spec.min === 0 && spec.max === 1) {
    // A 0..1 control (e.g. fidelity <-> sharpness, variation strength) reads best as a slider.
    input = h("input", { id, name, type: "range", min: 0, max: 1, step: 0.05, value: spec.default ?? 0.5,
      "aria-describedby": describedBy });
    const out = h("output", { for: id }, String(input.value));
    input.addEventListener("input", () => { out.textContent = input.value; });
    const ends = custom.ends ? h("div", { class: "compare-label" }, h("span", {}, custom.ends[0]), h("span", {}, custom.ends[1])) : null;
    return h("div", {}, h("label", { for: id }, custom.label || label(name), " ", out), input, ends, help);
  } else if (["integer", "float", "decimal"].includes(spec.type)) {
    input = h("input", { id, name, type: "number", step: spec.type === "integer" ? 1 : "any",
      min: spec.min ?? undefined, max: spec.max ?? undefined, value: spec.default ?? "", required: spec.required,
      "aria-describedby": describedBy });
  } else {
    input = h("input", { id, name, value: spec.default ?? "", required: spec.required, "aria-describedby": describedBy });
  }
  const optional = !spec.required && (spec.default === null || spec.default === undefined);
  return h("div", {}, h("label", { for: id }, custom.label || label(name), optional ? h("span", { class: "muted" }, " (optional)") : ""), input, help);
}

function readParam(form, name, spec) {
  const input = form.querySelector(`[name="${name}"]`);
  if (!input) return undefined;
  if (spec.type === "boolean") return input.checked;
  if (input.value === "") return undefined;
  if (["integer"].includes(spec.type)) return parseInt(input.value, 10);
  if (["float", "decimal"].includes(spec.type)) return parseFloat(input.value);
  if (spec.choices && spec.choices.some((c) => typeof c === "number")) return Number(input.value);
  return input.value;
}

/** Project assets and sets for input pickers (thumbnails and previews left out). */
export async function projectInputs(projectId) {
  const [assets, sets] = await Promise.all([apiAll(projectPath(projectId, "/assets")), apiAll(projectPath(projectId, "/sets"))]);
  const setNames = new Map(sets.map((s) => [s.id, s.name]));
  return {
    assets: assets.filter((a) => !["thumbnail", "preview"].includes(a.role)).map((a) => ({ ...a, setName: setNames.get(a.set) || "" })),
    sets: sets.filter((s) => s.kind !== "preview"),
  };
}

function inputField(name, spec, idPrefix, choices) {
  const id = `${idPrefix}-input-${name}`;
  const options = spec.kind === "set"
    ? choices.sets.map((s) => h("option", { value: s.id }, `${s.name} (${s.kind}, ${s.asset_count} files)`))
    : choices.assets.map((a) => h("option", { value: a.id }, `${a.setName} / ${a.name} (${a.role}, ${a.width}×${a.height})`));
  const select = h("select", { id, name: `input:${name}`, multiple: spec.many, size: spec.many ? 5 : undefined,
    required: spec.required }, spec.many || spec.required ? null : h("option", { value: "" }, "— none —"), options);
  const help = spec.help ? h("p", { class: "help" }, spec.help) : null;
  const empty = options.length ? null : h("p", { class: "help warning" },
    spec.kind === "set" ? "This project has no asset sets yet: upload some first." : "This project has no assets yet: upload some first.");
  return h("div", {}, h("label", { for: id }, label(name), spec.required ? "" : h("span", { class: "muted" }, " (optional)"),
    spec.many ? h("span", { class: "muted" }, " — Ctrl/⌘-click for several") : ""), select, help, empty);
}

/** Fields for `kind` inside `container`; returns { params(form), inputs(form) } readers.
 *  `skip` names inputs/params the caller provides itself; `overrides` adjust labels. */
export function buildKindFields(container, kind, choices, { idPrefix = "job", skip = [], overrides = {} } = {}) {
  const params = Object.entries(kind.params).filter(([n]) => !skip.includes(n));
  const inputs = Object.entries(kind.inputs).filter(([n]) => !skip.includes(n));
  container.replaceChildren(...[
    inputs.length ? h("fieldset", {}, h("legend", {}, "Inputs"), inputs.map(([n, s]) => inputField(n, s, idPrefix, choices))) : null,
    params.length ? h("fieldset", {}, h("legend", {}, "Settings"), h("div", { class: "row" }, params.map(([n, s]) => paramField(n, s, idPrefix, overrides)))) : null,
  ].filter(Boolean));
  return {
    params(form) {
      const out = {};
      for (const [n, s] of params) { const v = readParam(form, n, s); if (v !== undefined) out[n] = v; }
      return out;
    },
    inputs(form) {
      const out = {};
      for (const [n, s] of inputs) {
        const select = form.querySelector(`[name="input:${n}"]`);
        const values = [...select.selectedOptions].map((o) => o.value).filter(Boolean);
        if (values.length) out[n] = s.many ? values : values[0];
      }
      return out;
    },
  };
}

export async function startJob(projectId, kind, params, inputs) {
  return api(projectPath(projectId, "/jobs"), { method: "POST", json: { kind, params, inputs } });
}
