// Small DOM helpers shared by the pages.

/** h("a", {href, class: "x", onclick}, child, ...): builds an element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function toast(message, kind = "info") {
  const box = h("div", { class: `toast ${kind}` }, message);
  $("#toasts").append(box);
  setTimeout(() => box.remove(), kind === "error" ? 8000 : 4000);
}

/** Shows an error message in a form's [role=alert] element, or hides it with null. */
export function formError(form, message) {
  const box = form.querySelector('[role="alert"]');
  box.textContent = message || "";
  box.hidden = !message;
}

export function emptyState(title, text, ...extra) {
  return h("div", { class: "empty" }, h("strong", {}, title), text ? h("p", {}, text) : null, ...extra);
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let value = n / 1024, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDate(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatDuration(seconds) {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function setBusy(node, busy) { node.setAttribute("aria-busy", busy ? "true" : "false"); }

export async function copyText(text) {
  try { await navigator.clipboard.writeText(text); toast("Copied to the clipboard."); }
  catch { toast("Select the text and copy it (the clipboard is not available here).", "error"); }
}

/** Wires every [data-copy=id] button to copy that element's value or text. */
export function wireCopyButtons(root = document) {
  for (const button of root.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", () => {
      const target = document.getElementById(button.dataset.copy);
      copyText(target.value ?? target.textContent);
    });
  }
}

export const mainData = () => document.getElementById("main").dataset;
