// Small DOM and number helpers shared by the views.
export const $ = (id) => document.getElementById(id);

// el("td", {class: "num"}, "text", child...): attributes set as such
// (never innerHTML), children appended as text or nodes
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {}))
    if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
  for (const c of children)
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

export function fixed(x, digits = 2) {
  return x === null || x === undefined ? "–" : Number(x).toFixed(digits);
}

export function num(x) {
  return x === null || x === undefined ? "–" : String(x);
}

export function mib(x) {
  if (x === null || x === undefined) return "–";
  return x >= 1024 ? (x / 1024).toFixed(x % 1024 ? 1 : 0) + " GiB" : x + " MiB";
}

export function clock(t) {
  return new Date(t * 1000).toLocaleTimeString([], { hour12: false });
}

// The Okabe–Ito palette: told apart with the common colour-vision
// deficiencies; every use also has a label or a pattern.
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
  "#F0E442", "#000000"];
export function colour(i) {
  return PALETTE[i % PALETTE.length];
}

// A sparkline: the values (nulls skipped) as an SVG polyline, scaled to max
export function sparkline(values, max, label) {
  const NS = "http://www.w3.org/2000/svg", w = 80, h = 18;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const pts = [];
  const n = values.length;
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const x = n > 1 ? (i * w) / (n - 1) : w;
    pts.push(x.toFixed(1) + "," + (h - 1 - (Math.min(v, max) / (max || 1)) * (h - 2)).toFixed(1));
  });
  const line = document.createElementNS(NS, "polyline");
  line.setAttribute("points", pts.join(" "));
  svg.append(line);
  return svg;
}
