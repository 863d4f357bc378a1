// Calls /api/v1 with the signed-in credentials and turns the contract's error shape into ApiError.
const TOKEN_KEY = "fieldcards.token";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.fields = body?.error?.fields || [];
  }
}

// An error as a person reads it on a form: each field the server named with its message, else the message.
export function problemText(error) {
  return error.fields?.length ? error.fields.map((f) => `${f.path || "—"}: ${f.message}`).join("; ") : error.message;
}

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (value) => (value ? sessionStorage.setItem(TOKEN_KEY, value) : sessionStorage.removeItem(TOKEN_KEY));

export async function api(path, { method = "GET", body } = {}) {
  const headers = { "X-Fieldcards": "1" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
