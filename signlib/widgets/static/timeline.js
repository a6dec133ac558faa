// The keyframe editor's timeline: the BIO strip with its gloss spans, the keyframes as draggable
// markers and the frame cursor, drawn as SVG. Dragging a marker sends {event: "move", index,
// frame} when the pointer is released; a double click on the strip sends {event: "add", frame};
// a click sets the cursor; a click on a marker selects it. Python owns every state change: the
// markers are redrawn from the synced `frames` list, so a refused move snaps back.
const NS = "http://www.w3.org/2000/svg";
const BIO_COLOURS = ["#ececec", "#9ecae1", "#3182bd"]; // O, I, B
const PAD = 12;

function el(name, attrs) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function render({ model, el: root }) {
  const svg = el("svg", { class: "signlib-timeline", width: "100%", height: "78" });
  svg.style.touchAction = "none";
  svg.style.userSelect = "none";
  root.appendChild(svg);
  let drag = null;

  const width = () => svg.getBoundingClientRect().width || 640;
  const last = () => Math.max(1, model.get("num_frames") - 1);
  const xOf = (f) => PAD + ((width() - 2 * PAD) * f) / last();
  const frameOf = (clientX) => {
    const x = clientX - svg.getBoundingClientRect().left;
    return Math.min(last(), Math.max(0, Math.round(((x - PAD) * last()) / (width() - 2 * PAD))));
  };

  function draw() {
    svg.replaceChildren();
    const bio = model.get("bio");
    for (let start = 0; start < bio.length; ) {
      let stop = start;
      while (stop < bio.length && bio[stop] === bio[start]) stop++;
      svg.appendChild(el("rect", { x: xOf(start), y: 8, width: Math.max(1, xOf(stop) - xOf(start)), height: 16,
                                   fill: BIO_COLOURS[bio[start]] ?? "#ececec" }));
      start = stop;
    }
    for (const seg of model.get("segments")) {
      const label = el("text", { x: (xOf(seg.start) + xOf(seg.end - 1)) / 2, y: 38, "font-size": 10,
                                 "text-anchor": "middle", fill: "#333" });
      label.textContent = seg.gloss;
      svg.appendChild(label);
    }
    const cursor = model.get("cursor");
    svg.appendChild(el("line", { x1: xOf(cursor), x2: xOf(cursor), y1: 2, y2: 76, stroke: "#d62728",
                                 "stroke-width": 1.5, class: "cursor" }));
    model.get("frames").forEach((frame, index) => {
      const x = drag && drag.index === index && drag.frame !== null ? xOf(drag.frame) : xOf(frame);
      const group = el("g", { class: "keyframe", "data-index": index, "data-frame": frame, cursor: "ew-resize" });
      group.appendChild(el("line", { x1: x, x2: x, y1: 8, y2: 60, stroke: "#444", "stroke-width": 1 }));
      group.appendChild(el("circle", { cx: x, cy: 62, r: 7,
                                       fill: index === model.get("selected") ? "#ff7f0e" : "#2b2b2b" }));
      svg.appendChild(group);
    });
  }

  svg.addEventListener("pointerdown", (e) => {
    const marker = e.target.closest(".keyframe");
    if (marker) {
      drag = { index: Number(marker.dataset.index), frame: null };
      svg.setPointerCapture(e.pointerId);
      model.set("selected", drag.index);
    } else {
      model.set("cursor", frameOf(e.clientX));
    }
    model.save_changes();
    draw();
  });
  svg.addEventListener("pointermove", (e) => {
    if (!drag) return;
    drag.frame = frameOf(e.clientX);
    draw();
  });
  svg.addEventListener("pointerup", (e) => {
    if (!drag) return;
    const { index, frame } = drag;
    drag = null;
    if (frame !== null && frame !== model.get("frames")[index]) model.send({ event: "move", index, frame });
    draw();
  });
  svg.addEventListener("dblclick", (e) => {
    if (!e.target.closest(".keyframe")) model.send({ event: "add", frame: frameOf(e.clientX) });
  });
  for (const name of ["frames", "bio", "segments", "cursor", "selected", "num_frames"]) {
    model.on(`change:${name}`, draw);
  }
  new ResizeObserver(draw).observe(svg);
  draw();
}

export default { render };
