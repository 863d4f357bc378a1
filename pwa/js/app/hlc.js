// Hybrid logical clocks, the same as sync/protocol/hlc.py: "<13-digit unix ms>-<4-digit counter>-<device>",
// sortable as strings. Every local edit is stamped; the server orders concurrent writes by them.
const MAX_COUNTER = 9999;
const MAX_SKEW_MS = 5 * 60 * 1000;
const HLC_RE = /^(\d{13})-(\d{4})-([A-Za-z0-9._:-]{1,100})$/;

export function parse(value) {
  const m = typeof value === "string" ? HLC_RE.exec(value) : null;
  if (!m) throw new Error(`not a clock: ${String(value).slice(0, 60)}`);
  return { ms: Number(m[1]), counter: Number(m[2]), node: m[3] };
}

export const format = (ms, counter, node) => `${String(ms).padStart(13, "0")}-${String(counter).padStart(4, "0")}-${node}`;

export class Clock {
  constructor(node, wall = () => Date.now()) {
    this.node = node;
    this.wall = wall;
    this.ms = 0;
    this.counter = 0;
  }

  now() {
    this.tick(this.wall());
    return format(this.ms, this.counter, this.node);
  }

  // Fold in a stamp seen elsewhere (or our own last one after a restart): we never stamp behind it,
  // but a runaway remote clock cannot drag ours more than the server's skew bound ahead.
  receive(remote) {
    const stamp = parse(remote);
    const wall = this.wall();
    const ms = Math.min(stamp.ms, wall + MAX_SKEW_MS);
    if (ms > this.ms || (ms === this.ms && stamp.counter > this.counter)) {
      this.ms = ms;
      this.counter = Math.min(stamp.counter, MAX_COUNTER - 1);
    }
    this.tick(wall);
  }

  tick(wall) {
    if (wall > this.ms) {
      this.ms = wall;
      this.counter = 0;
    } else if (this.counter < MAX_COUNTER) {
      this.counter += 1;
    } else {
      this.ms += 1; // counter exhausted within one millisecond: borrow the next one
      this.counter = 0;
    }
  }
}
