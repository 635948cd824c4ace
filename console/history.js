// The last hour of each partition's samples (GET .../history), kept here
// and brought up to date with ?since=LAST, so that a refresh moves only
// the new samples.
import { api } from "./api.js";

const held = new Map(); // name -> History object, columns appended

export async function history(name) {
  const old = held.get(name);
  const since = old && old.last !== null ? "?since=" + old.last : "";
  const h = await api("/v1/partitions/" + encodeURIComponent(name) + "/history" + since);
  if (!since || (h.samples.at.length && h.first !== old.last + 1)) {
    held.set(name, h); // the first call, or partd restarted: the whole hour
    return h;
  }
  if (!h.samples.at.length) return old;
  for (const [col, values] of Object.entries(h.samples)) {
    const all = old.samples[col].concat(values);
    old.samples[col] = all.slice(Math.max(0, all.length - h.capacity));
  }
  old.last = h.last;
  old.first = h.last - old.samples.at.length + 1;
  return old;
}
