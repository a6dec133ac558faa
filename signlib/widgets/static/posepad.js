// The keyframe editor's pose pad: the selected keyframe's skeleton, front view, with a handle on
// each wrist. Dragging a handle sends {event: "wrist", side, x, y} (pad pixels) when released;
// Python solves the arm by inverse kinematics and sends back the new points, so the drawing is
// always the solved pose, never the raw drag.
const NS = "http://www.w3.org/2000/svg";

function el(name, attrs) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function render({ model, el: root }) {
  const size = model.get("size");
  const svg = el("svg", { class: "signlib-posepad", width: size, height: size, viewBox: `0 0 ${size} ${size}` });
  svg.style.touchAction = "none";
  svg.style.border = "1px solid #ddd";
  root.appendChild(svg);
  let drag = null;

  const local = (e) => {
    const box = svg.getBoundingClientRect();
    return [e.clientX - box.left, e.clientY - box.top];
  };

  function draw() {
    svg.replaceChildren();
    const points = model.get("points");
    const colours = model.get("colours");
    model.get("bones").forEach(([a, b], k) => {
      svg.appendChild(el("line", { x1: points[a][0], y1: points[a][1], x2: points[b][0], y2: points[b][1],
                                   stroke: colours[k] ?? "#555", "stroke-width": 2 }));
    });
    for (const [side, point] of Object.entries(model.get("handles"))) {
      const [x, y] = drag && drag.side === side ? drag.at : point;
      svg.appendChild(el("circle", { cx: x, cy: y, r: 8, fill: "rgba(255,127,14,0.55)", stroke: "#ff7f0e",
                                     "stroke-width": 2, class: `wrist ${side}`, "data-side": side,
                                     cursor: "move" }));
    }
  }

  svg.addEventListener("pointerdown", (e) => {
    const handle = e.target.closest(".wrist");
    if (!handle) return;
    drag = { side: handle.dataset.side, at: local(e) };
    svg.setPointerCapture(e.pointerId);
  });
  svg.addEventListener("pointermove", (e) => {
    if (!drag) return;
    drag.at = local(e);
    draw();
  });
  svg.addEventListener("pointerup", () => {
    if (!drag) return;
    const { side, at } = drag;
    drag = null;
    model.send({ event: "wrist", side, x: at[0], y: at[1] });
    draw();
  });
  for (const name of ["points", "bones", "handles", "colours"]) model.on(`change:${name}`, draw);
  draw();
}

export default { render };
