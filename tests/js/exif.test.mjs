// Unit tests of pwa/js/app/exif.js: a photo's EXIF block found, turned upright and carried over.
import assert from "node:assert/strict";
import { test } from "node:test";

import { exifSegment, uprightSegment, withSegment } from "../../pwa/js/app/exif.js";

// A little-endian EXIF block with IFD0 holding Orientation = 6 (turned) and one other tag.
function exifBlock() {
  const tiff = [0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, // "II", 42, IFD0 at 8
    0x02, 0x00, // two entries
    0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, // Orientation SHORT 1 = 6
    0x0f, 0x01, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x41, 0x42, 0x43, 0x00, // Make ASCII "ABC"
    0x00, 0x00, 0x00, 0x00];
  const body = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00, ...tiff];
  return [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
}

const jfif = [0xff, 0xe0, 0x00, 0x04, 0x00, 0x00];
const scan = [0xff, 0xda, 0x00, 0x02, 0x11, 0x22, 0xff, 0xd9];
const jpeg = (...parts) => new Uint8Array([0xff, 0xd8, ...parts.flat()]).buffer;

test("the EXIF block is found after other headers, and none is found without one", () => {
  const found = exifSegment(jpeg(jfif, exifBlock(), scan));
  assert.deepEqual([...found], exifBlock());
  assert.equal(exifSegment(jpeg(jfif, scan)), null);
  assert.equal(exifSegment(new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer), null); // a PNG
});

test("kept EXIF says the picture is upright, and the rest of the block is unchanged", () => {
  const upright = uprightSegment(exifSegment(jpeg(exifBlock(), scan)));
  const original = exifBlock();
  const orientationAt = 4 + 6 + 8 + 2 + 8; // segment header, Exif\0\0, TIFF header, count, tag+type+count
  assert.equal(original[orientationAt], 6);
  assert.equal(upright[orientationAt], 1);
  assert.deepEqual([...upright].filter((_, i) => i !== orientationAt), original.filter((_, i) => i !== orientationAt));
});

test("the block goes back right after the new file's start marker", () => {
  const redrawn = jpeg(jfif, scan);
  const out = new Uint8Array(withSegment(redrawn, new Uint8Array(exifBlock())));
  assert.deepEqual([...out.subarray(0, 2)], [0xff, 0xd8]);
  assert.deepEqual([...out.subarray(2, 2 + exifBlock().length)], exifBlock());
  assert.deepEqual([...out.subarray(2 + exifBlock().length)], [...new Uint8Array(redrawn).subarray(2)]);
  assert.ok(exifSegment(out.buffer));
});
