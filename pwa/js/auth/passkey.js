// Sign-in lives here and only here: passkey registration and discoverable sign-in against
// /api/v1/auth, sign-out, and "who am I". Other screens import these functions.
import { api, ApiError } from "../shared/api.js";

export const passkeysSupported = () =>
  Boolean(window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON && PublicKeyCredential.parseRequestOptionsFromJSON);

// A first passkey from an invite code, or (signed in, no code) one more passkey for this user.
export async function registerPasskey({ invite = null, label = "" } = {}) {
  const { handle, publicKey } = await api("/auth/register/options", { method: "POST", body: invite ? { invite } : {} });
  const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(publicKey) });
  return api("/auth/register", { method: "POST", body: { handle, credential: credential.toJSON(), label } });
}

// No user name: the authenticator offers the passkeys it holds for this site.
export async function signInWithPasskey() {
  const { handle, publicKey } = await api("/auth/login/options", { method: "POST", body: {} });
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(publicKey) });
  return api("/auth/login", { method: "POST", body: { handle, credential: credential.toJSON() } });
}

export const signOut = (everywhere = false) => api("/auth/logout", { method: "POST", body: { everywhere } });

// The signed-in user, or null when the session has ended (local work is kept; sign in again).
export async function whoAmI() {
  try {
    return await api("/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export const myPasskeys = async () => (await api("/passkeys")).passkeys;
export const removePasskey = (id) => api(`/passkeys/${encodeURIComponent(id)}/remove`, { method: "POST", body: {} });
