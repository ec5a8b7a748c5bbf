// Building DOM without innerHTML: every value from the API becomes a text node.

const SVG_NS = "http://www.w3.org/2000/svg";

function assign(el, props) {
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.setAttribute("class", value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

function fill(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  assign(el, props);
  return fill(el, children);
}

export function s(tag, props = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  assign(el, props);
  return fill(el, children);
}

export const byId = (id) => document.getElementById(id);

// Re-render only when the data changed, so focus and scroll stay where the operator left them.
export function changed(el, data) {
  const signature = JSON.stringify(data);
  if (el.dataset.signature === signature) return false;
  el.dataset.signature = signature;
  return true;
}
