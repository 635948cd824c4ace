// The live event list: GET /v1/events for what is kept, then the stream
// (SSE) read with fetch and a ReadableStream, since EventSource cannot send
// an Authorization header; on a break it reads what is kept again and
// reconnects with since=LAST. partd keeps events in memory: after a restart
// its seqs start again from 1, which the kept list shows (its newest is
// below LAST), and then the list starts again too.
import { api, headers, session } from "./api.js";
import { el, clock } from "./dom.js";

const KEEP = 200;
const events = [];
const listeners = new Set();
let lastSeq = null, abort = null;
let follower = 0; // the current follower's number: an older one stops

function add(e) {
  if (lastSeq !== null && e.seq <= lastSeq) return;
  lastSeq = e.seq;
  events.push(e);
  if (events.length > KEEP) events.shift();
  for (const fn of listeners) fn();
}

// frames "id: N\nevent: KIND\ndata: JSON\n\n"; comments (": keep-alive") skipped
function frames(buffer) {
  const parts = buffer.split("\n\n");
  const rest = parts.pop();
  for (const f of parts) {
    const data = f.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim());
    if (data.length) add(JSON.parse(data.join("\n")));
  }
  return rest;
}

async function follow() {
  abort = new AbortController();
  const rep = await fetch("/v1/events?follow=1" + (lastSeq !== null ? "&since=" + lastSeq : ""),
    { headers: headers({ Accept: "text/event-stream" }), signal: abort.signal, cache: "no-store" });
  if (!rep.ok) throw new Error("events: HTTP " + rep.status);
  const reader = rep.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer = frames(buffer + value.replace(/\r\n/g, "\n"));
  }
}

async function catchUp() {
  const kept = (await api("/v1/events")).events;
  const newest = kept.length ? kept[kept.length - 1].seq : 0;
  if (lastSeq !== null && newest < lastSeq) { // partd restarted
    events.length = 0;
    lastSeq = null;
  }
  for (const e of kept) add(e);
}

export async function startEvents() {
  const me = ++follower;
  while (me === follower && session.token()) {
    try {
      await catchUp();
      await follow();
    } catch (e) { /* a break: again below */ }
    await new Promise((r) => setTimeout(r, 2000)); // then again, since=LAST
  }
}

// on sign-out: the stream stops and its events are forgotten
export function stopEvents() {
  follower++;
  if (abort) abort.abort();
  events.length = 0;
  lastSeq = null;
}

// Renders the last events (of partition, or all; at most limit) newest
// first into list, now and on each new one; returns what stops that.
export function eventList(list, partition, limit = 50) {
  const draw = () => list.replaceChildren(...events.filter((e) => !partition ||
    e.partition === partition).slice(-limit).reverse().map((e) =>
    el("li", { "data-seq": e.seq, "data-kind": e.kind },
      el("time", {}, clock(e.time)), el("span", { class: "kind" }, e.kind),
      el("span", { class: "by" }, e.by + (e.caller ? " (" + e.caller.role + ")" : "")),
      el("span", { class: "msg" }, (e.partition && !partition ? e.partition + ": " : "") +
        e.message))));
  draw();
  listeners.add(draw);
  return () => listeners.delete(draw);
}
