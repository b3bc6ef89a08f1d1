// The REST API client every page uses: session cookie + CSRF header, JSON errors as ApiError.

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error || {};
    super(error.message || `Request failed (${status}).`);
    this.status = status;
    this.code = error.code;
    this.fields = error.fields || {};
  }
}

/** Call `/api/v1${path}`: `json` is sent as JSON, `form` (FormData) as multipart. Returns parsed JSON or null. */
export async function api(path, { method = "GET", json, form, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  const url = path.startsWith("/api/") ? path : `/api/v1${path}`;
  const response = await fetch(url, { method, headers, body, signal, credentials: "same-origin" });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (response.status === 401 || response.status === 403 && data?.error?.code === "not_authenticated") {
    window.location.href = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Every page of a paginated list (stops after `limit` items). */
export async function apiAll(path, limit = 2000) {
  const items = [];
  let url = path + (path.includes("?") ? "&" : "?") + "page_size=500";
  while (url && items.length < limit) {
    const page = await api(url);
    items.push(...page.results);
    url = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
  }
  return items;
}

export const projectPath = (projectId, rest = "") => `/projects/${projectId}${rest}`;
