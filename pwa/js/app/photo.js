// A photo or file chosen on the phone, made ready to keep and upload: photos are redrawn on a
// canvas at most PHOTO_MAX_SIDE px on their longest side and saved as JPEG, which also drops their
// EXIF data (the place where the photo was taken among it), unless the rep chose to keep it: then
// a JPEG's EXIF block is carried over (exif.js). Other files are kept as they are.
import { exifSegment, uprightSegment, withSegment } from "./exif.js";

export const PHOTO_MAX_SIDE = Number(localStorage.getItem("fieldcards.photoMaxSide")) || 2048;
export const PHOTO_QUALITY = 0.85;
export const SIZE_MAX = 10 * 1024 * 1024; // the server's limit per file (sync/cards/attachments.py)
// What the server accepts (sync/cards/attachments.py ALLOWED_TYPES).
export const ALLOWED = new Set([
  "image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/gif",
  "application/pdf", "text/plain", "text/csv",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/msword", "application/vnd.ms-excel", "audio/mpeg", "audio/mp4", "audio/aac",
]);
const KEEP_KEY = "fieldcards.photoKeepPlace";
export const keepPlaceOn = () => localStorage.getItem(KEEP_KEY) === "on";
export const setKeepPlace = (on) => localStorage.setItem(KEEP_KEY, on ? "on" : "off");
const REDRAWN = new Set(["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"]);

export class BadFile extends Error {
  constructor(reason, detail = {}) {
    super(reason);
    this.reason = reason; // "type" | "size"
    this.detail = detail;
  }
}

const jpegName = (name) => `${(name || "photo").replace(/\.[A-Za-z0-9]{1,5}$/, "") || "photo"}.jpg`;

async function downscale(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; // a transparent PNG becomes white, not black, as JPEG
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close?.();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", PHOTO_QUALITY));
  return { bytes: await blob.arrayBuffer(), width, height };
}

// Resolves {bytes: ArrayBuffer, name, type} or throws BadFile.
export async function prepare(file, { keepPlace = keepPlaceOn() } = {}) {
  const type = (file.type || "").toLowerCase();
  if (REDRAWN.has(type)) {
    try {
      let { bytes } = await downscale(file);
      const exif = keepPlace && type === "image/jpeg" ? exifSegment(await file.arrayBuffer()) : null;
      if (exif) bytes = withSegment(bytes, uprightSegment(exif));
      if (bytes.byteLength > SIZE_MAX) throw new BadFile("size", { size: bytes.byteLength });
      return { bytes, name: jpegName(file.name), type: "image/jpeg" };
    } catch (error) {
      if (error instanceof BadFile) throw error;
      // A format this browser cannot draw (HEIC on most): kept as it came.
    }
  }
  if (!ALLOWED.has(type)) throw new BadFile("type", { type: type || "?" });
  if (file.size > SIZE_MAX) throw new BadFile("size", { size: file.size });
  return { bytes: await file.arrayBuffer(), name: (file.name || "file").slice(0, 200), type };
}
