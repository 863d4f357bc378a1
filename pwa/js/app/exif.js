// A photo's EXIF block (where and when it was taken, the camera), carried over into the downscaled
// JPEG only when the rep chose to keep it. Pure byte work on ArrayBuffers, tested under node
// (tests/js/exif.test.mjs). Canvas re-encoding drops EXIF; this puts the original block back
// after the new file's start marker, with the orientation set to "as stored", because the canvas
// has already turned the picture upright.
const SOI = 0xffd8;
const APP1 = 0xffe1;
const ORIENTATION = 0x0112;

// The APP1 segment holding "Exif\0\0" (marker and length included), or null.
export function exifSegment(buffer) {
  const view = new DataView(buffer);
  if (view.byteLength < 4 || view.getUint16(0) !== SOI) return null;
  let at = 2;
  while (at + 4 <= view.byteLength) {
    const marker = view.getUint16(at);
    if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) return null; // start of scan: no more headers
    const length = view.getUint16(at + 2);
    if (marker === APP1 && at + 10 <= view.byteLength && view.getUint32(at + 4) === 0x45786966 && view.getUint16(at + 8) === 0) {
      return new Uint8Array(buffer.slice(at, at + 2 + length));
    }
    at += 2 + length;
  }
  return null;
}

// The same segment with IFD0's orientation (if any) set to 1.
export function uprightSegment(segment) {
  const out = new Uint8Array(segment);
  const view = new DataView(out.buffer);
  const tiff = 10; // marker (2) + length (2) + "Exif\0\0" (6)
  if (out.byteLength < tiff + 8) return out;
  const little = view.getUint16(tiff) === 0x4949;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  if (ifd + 2 > out.byteLength) return out;
  const count = view.getUint16(ifd, little);
  for (let n = 0; n < count; n += 1) {
    const entry = ifd + 2 + n * 12;
    if (entry + 12 > out.byteLength) break;
    if (view.getUint16(entry, little) === ORIENTATION) view.setUint16(entry + 8, 1, little);
  }
  return out;
}

// `jpeg` (from the canvas, no EXIF) with `segment` inserted after its start marker.
export function withSegment(jpeg, segment) {
  const bytes = new Uint8Array(jpeg);
  const out = new Uint8Array(bytes.byteLength + segment.byteLength);
  out.set(bytes.subarray(0, 2), 0);
  out.set(segment, 2);
  out.set(bytes.subarray(2), 2 + segment.byteLength);
  return out.buffer;
}
