/* Backprop explorer: steps through backward (or forward) one node at a time.
 *
 * Plain JavaScript, no framework and no build step. Everything it shows comes from the JSON in
 * <script id="explorer-data">, written by tinygrad_lab.viz.explore:
 *   data.backward / data.forward  op ids in visit order (step k shows op k; step 0 is the start)
 *   data.ops[id]      op, layer, site, inputs, output, grad_in, grad_out, saved_bytes, steps
 *   data.tensors[id]  name, shape, grad and value: {norm, color, font, at, histogram}
 * A tensor is coloured once step >= its "at" (its gradient, or its value, has arrived).
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("explorer-data").textContent);
  var WAITING = { fill: "#eeeeee", font: "#8c8c8c" }; // a gradient (or value) not there yet
  var state = { mode: "backward", step: 0, timer: null };
  var drawn = {}; // drawn node id -> its <g class="node"> in the SVG
  var edges = []; // {el, from, to}, one per SVG edge
  var producer = {}; // tensor id -> the op that made it
  var $ = function (id) { return document.getElementById(id); };

  // ------------------------------------------------------------------ numbers as the trace prints them
  function g3(x) { // Python's format(x, ".3g")
    if (x === null || x === undefined) return "—";
    if (typeof x === "string") return x; // "nan", "inf", "-inf"
    if (x === 0) return "0";
    var parts = x.toExponential(2).split("e");
    var exponent = parseInt(parts[1], 10);
    if (exponent < -4 || exponent >= 3) {
      var digits = String(Math.abs(exponent)).padStart(2, "0");
      return trimZeros(parts[0]) + "e" + (exponent < 0 ? "-" : "+") + digits;
    }
    return trimZeros(x.toFixed(2 - exponent));
  }
  function trimZeros(text) {
    return text.indexOf(".") < 0 ? text : text.replace(/0+$/, "").replace(/\.$/, "");
  }
  function bytes(n) { return n.toLocaleString("en-US") + " bytes"; }

  // ------------------------------------------------------------------ the SVG graph
  function shapesOf(g) {
    return Array.prototype.filter.call(g.querySelectorAll("polygon, ellipse, path"), function (s) {
      return s.getAttribute("fill") !== "none";
    });
  }
  function indexGraph() {
    document.querySelectorAll("#graph g.node").forEach(function (g) {
      var title = g.querySelector("title");
      var id = title.textContent;
      g.setAttribute("data-id", id);
      title.textContent = "click to step to this node";
      drawn[id] = g;
      g.addEventListener("click", function () { jumpTo(id); });
    });
    document.querySelectorAll("#graph g.edge").forEach(function (g) {
      var ends = g.querySelector("title").textContent.split("->");
      edges.push({ el: g, from: ends[0], to: ends[1] });
    });
    Object.keys(data.ops).forEach(function (id) { producer[data.ops[id].output] = data.ops[id]; });
  }
  function fill(g, color, font) { // null restores the colours dot drew
    shapesOf(g).forEach(function (s) { s.style.fill = color || ""; });
    g.querySelectorAll("text").forEach(function (t) { t.style.fill = font || ""; });
  }

  // ------------------------------------------------------------------ what a step shows
  function order() { return data[state.mode]; }
  function currentOp() { return state.step ? data.ops[order()[state.step - 1]] : null; }
  function info(tensor) { return tensor[state.mode === "backward" ? "grad" : "value"]; }
  function arrived(tensor) {
    var i = info(tensor);
    return i !== null && i.at !== null && i.at <= state.step;
  }

  function paintTensors() {
    Object.keys(data.tensors).forEach(function (id) {
      var t = data.tensors[id];
      var g = drawn[t.drawn];
      if (!g || t.drawn === "more") return;
      if (arrived(t)) fill(g, info(t).color, info(t).font);
      else if (state.mode === "backward" && !t.requires_grad) fill(g, null, null); // a constant
      else fill(g, WAITING.fill, WAITING.font);
    });
  }
  function paintOps(current) {
    var here = current ? current.drawn : null;
    Object.keys(data.ops).forEach(function (id) {
      var op = data.ops[id];
      var g = drawn[op.drawn];
      var step = op[state.mode + "_step"];
      if (!g || op.drawn === "more") return;
      g.classList.toggle("current", op.drawn === here);
      g.classList.toggle("pending", step === null || step > state.step);
    });
    if (drawn.more) drawn.more.classList.toggle("current", here === "more");
    edges.forEach(function (e) {
      e.el.classList.toggle("flow", here !== null && here !== "more" && (e.from === here || e.to === here));
    });
  }

  function go(step) {
    state.step = Math.max(0, Math.min(order().length, step));
    var op = currentOp();
    $("slider").value = state.step;
    $("step-label").textContent = "step " + state.step + " / " + order().length;
    paintTensors();
    paintOps(op);
    showPanel(op);
    if (op) scrollToNode(drawn[op.drawn]);
  }
  function scrollToNode(g) { // by hand: scrollIntoView would also scroll a notebook around us
    if (!g) return;
    var pane = $("graph"), box = g.getBoundingClientRect(), view = pane.getBoundingClientRect();
    if (box.top >= view.top && box.bottom <= view.bottom && box.left >= view.left && box.right <= view.right) return;
    pane.scrollTop += box.top + box.height / 2 - (view.top + view.height / 2);
    pane.scrollLeft += box.left + box.width / 2 - (view.left + view.width / 2);
  }
  function jumpTo(id) { // a click on a node: its op's step, or the step its tensor's data arrived
    var op = data.ops[id], tensor = data.tensors[id];
    if (op && op[state.mode + "_step"] !== null) go(op[state.mode + "_step"]);
    else if (tensor && info(tensor) && info(tensor).at !== null) go(info(tensor).at);
  }

  // ------------------------------------------------------------------ the side panel
  function field(name) { return document.querySelector('[data-field="' + name + '"]'); }
  function set(name, text) { field(name).textContent = text; }
  function label(tensorId, kind) {
    var t = data.tensors[tensorId];
    if (t.name) return t.name;
    if (kind === "output") return "its output";
    if (producer[tensorId]) return "from " + producer[tensorId].op;
    return t.kind === "parameter" ? "parameter" : "input";
  }

  function showPanel(op) {
    var backward = state.mode === "backward";
    set("norm-head", backward ? "‖grad‖" : "‖value‖");
    set("source-title", (backward ? "backward" : "forward") + " source");
    if (!op) return showStart(backward);
    var hidden = op.drawn === "more" ? " It is drawn inside the “… more nodes” box: pass a larger max_nodes= to draw it." : "";
    set("step", "step " + state.step + " of " + order().length);
    set("op", op.op);
    set("layer", op.layer || "— (outside the model)");
    set("site", op.site === "?" ? "? (the forward ran outside record_sites())" : op.site);
    set("saved", bytes(op.saved_bytes));
    set("explain", (backward ? explainBackward(op) : explainForward(op)) + hidden);
    showFlows(op, backward);
    var out = data.tensors[op.output];
    var shown = backward ? out.grad : out.value;
    set("histogram-title", (backward ? "entries of the gradient it received" : "entries of its output") + " (" + out.shape + ")");
    showHistogram(shown ? shown.histogram : null);
    set("source", data.sources[op.source][backward ? "backward" : "forward"]);
  }
  function explainBackward(op) {
    var sent = op.grad_out.filter(function (g) { return g !== null; }).length;
    return op.op + " receives ∂loss/∂output and sends ∂loss/∂input to " + sent + " of its " +
      op.inputs.length + " input" + (op.inputs.length === 1 ? "" : "s") + ", through the backward below.";
  }
  function explainForward(op) {
    return op.op + " computes its output from " + op.inputs.length + " input" +
      (op.inputs.length === 1 ? "" : "s") + " and keeps " + bytes(op.saved_bytes) + " for backward.";
  }
  function showStart(backward) {
    var loss = Object.keys(data.tensors).filter(function (id) { return data.tensors[id].kind === "output"; })[0];
    set("step", "start");
    set("op", backward ? "Backward starts at the loss" : "Forward starts at the inputs");
    set("explain", backward
      ? "The forward pass is done. Backward seeds ∂loss/∂loss = 1, then visits every node after all the nodes that used its output. Press ▶ or → to visit node 1."
      : "The inputs and parameters are ready. Forward runs each op once its inputs exist. Press ▶ or → to run op 1.");
    set("layer", "—");
    set("site", "—");
    set("saved", bytes(data.meta.saved_bytes) + " in all");
    var body = field("flows");
    body.textContent = "";
    body.appendChild(flowRow("loss", loss, backward ? data.tensors[loss].grad : data.tensors[loss].value, "output"));
    set("histogram-title", "");
    showHistogram(null, " ");
    set("source", "");
  }
  function showFlows(op, backward) {
    var body = field("flows");
    body.textContent = "";
    if (backward) body.appendChild(flowRow("receives at", op.output, { norm: op.grad_in }, "output"));
    op.inputs.forEach(function (id, k) {
      var norm = backward ? { norm: op.grad_out[k] } : data.tensors[id].value;
      body.appendChild(flowRow((backward ? "sends to input " : "input ") + k, id, norm, "input"));
    });
    if (!backward) body.appendChild(flowRow("output", op.output, data.tensors[op.output].value, "output"));
  }
  function flowRow(role, tensorId, norm, kind) {
    var t = data.tensors[tensorId];
    var row = document.createElement("tr");
    row.setAttribute("data-role", kind);
    var chip = document.createElement("span");
    chip.className = "chip";
    chip.style.background = arrived(t) ? info(t).color : WAITING.fill;
    row.append(
      cell("role", role), cell("tensor", label(tensorId, kind), chip),
      cell("shape", t.shape), cell("norm", g3(norm ? norm.norm : null)));
    return row;
  }
  function cell(className, text, before) {
    var td = document.createElement("td");
    td.className = className;
    if (before) td.appendChild(before);
    td.appendChild(document.createTextNode(text));
    return td;
  }

  var SVG = "http://www.w3.org/2000/svg";
  function svgElement(name, attributes, text) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (k) { el.setAttribute(k, attributes[k]); });
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function showHistogram(h, blank) {
    var box = field("histogram");
    box.textContent = "";
    if (!h || !h.counts.length) {
      if (!blank) box.appendChild(Object.assign(document.createElement("p"), { className: "empty", textContent: "no entries to show" }));
      return;
    }
    var width = 400, height = 110, plot = 80, top = Math.max.apply(null, h.counts);
    var svg = svgElement("svg", { viewBox: "0 0 " + width + " " + height, role: "img" });
    var bar = width / h.counts.length;
    h.counts.forEach(function (c, k) {
      var tall = c ? Math.max(1, (plot * c) / top) : 0;
      svg.appendChild(svgElement("rect", { x: k * bar + 1, y: plot - tall, width: bar - 2, height: tall, fill: "#1f5fa8" }, undefined));
    });
    svg.appendChild(svgElement("line", { x1: 0, y1: plot + 0.5, x2: width, y2: plot + 0.5, stroke: "#999" }));
    svg.appendChild(svgElement("text", { x: 0, y: plot + 16, "font-size": 12, fill: "#59636e" }, g3(h.min)));
    svg.appendChild(svgElement("text", { x: width, y: plot + 16, "font-size": 12, fill: "#59636e", "text-anchor": "end" }, g3(h.max)));
    var note = h.size.toLocaleString("en-US") + " entries · mean " + g3(h.mean) + (h.nonfinite ? " · " + h.nonfinite + " NaN/inf" : "");
    svg.appendChild(svgElement("text", { x: width / 2, y: plot + 28, "font-size": 12, fill: "#59636e", "text-anchor": "middle" }, note));
    box.appendChild(svg);
  }

  function showLegend() {
    var legend = $("legend"), backward = state.mode === "backward";
    legend.textContent = "";
    var title = document.createElement("span");
    title.textContent = backward ? "‖gradient‖, log scale (pale = vanishing):" : "‖value‖, log scale:";
    var ramp = document.createElement("span");
    ramp.className = "ramp";
    data.legend[state.mode].forEach(function (stop, k) {
      var s = document.createElement("span");
      s.style.background = stop[0];
      s.style.color = k > 2 ? "#fff" : "#000";
      s.textContent = stop[1];
      ramp.appendChild(s);
    });
    legend.append(title, ramp, swatch(WAITING.fill, backward ? "gradient not arrived yet" : "not computed yet"), swatch("#ffffff", "current node", "current"));
  }
  function swatch(color, text, extra) {
    var item = document.createElement("span"), box = document.createElement("span");
    box.className = "swatch" + (extra ? " " + extra : "");
    box.style.background = color;
    item.append(box, text);
    return item;
  }

  // ------------------------------------------------------------------ controls
  function pause() {
    clearInterval(state.timer);
    state.timer = null;
    $("play").classList.remove("playing");
    $("play-text").textContent = "Play";
  }
  function play() {
    if (state.timer) return pause();
    if (state.step >= order().length) go(0);
    $("play").classList.add("playing");
    $("play-text").textContent = "Pause";
    state.timer = setInterval(function () {
      go(state.step + 1);
      if (state.step >= order().length) pause();
    }, Number($("speed").value));
  }
  function setMode(mode) {
    var op = currentOp();
    pause();
    state.mode = mode;
    document.querySelectorAll(".modes button").forEach(function (b) { b.classList.toggle("on", b.dataset.mode === mode); });
    $("slider").max = order().length;
    showLegend();
    go(op && op[mode + "_step"] !== null ? op[mode + "_step"] : 0);
  }
  function wire() {
    $("first").onclick = function () { pause(); go(0); };
    $("prev").onclick = function () { pause(); go(state.step - 1); };
    $("next").onclick = function () { pause(); go(state.step + 1); };
    $("last").onclick = function () { pause(); go(order().length); };
    $("play").onclick = play;
    $("slider").oninput = function () { pause(); go(Number(this.value)); };
    $("speed").onchange = function () { if (state.timer) { pause(); play(); } };
    document.querySelectorAll(".modes button").forEach(function (b) { b.onclick = function () { setMode(b.dataset.mode); }; });
    document.addEventListener("keydown", function (event) {
      var tag = event.target.tagName;
      if (tag === "INPUT" || tag === "SELECT" || event.altKey || event.ctrlKey || event.metaKey) return;
      var keys = { ArrowRight: "next", ArrowLeft: "prev", Home: "first", End: "last", " ": "play" };
      if (!keys[event.key]) return;
      event.preventDefault();
      $(keys[event.key]).click();
    });
  }

  indexGraph();
  wire();
  setMode("backward");
  window.backpropExplorer = { go: go, setMode: setMode, state: state };
  document.body.setAttribute("data-ready", "true");
})();
