/* Backprop explorer: steps through backward (or forward) one node at a time.
 *
 * Plain JavaScript, no framework and no build step. Everything it shows comes from the JSON in
 * <script id="explorer-data">, written by tinygrad_lab.viz.explore:
 *   data.backward, data.forward  op ids in visit order: step k shows op k, step 0 the start
 *   data.ops[id]      op, layer, site, inputs, output, grad_in, grad_out, saved_bytes, steps
 *   data.meta         steps, loss, ..., made_at: what made the page (null: each op's site)
 *   data.tensors[id]  name, shape, grad and value: {norm, color, font, at, histogram}
 * A tensor is coloured once the step reaches its "at": its gradient (or value) has arrived.
 */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("explorer-data").textContent);
  var WAITING = { fill: "#eeeeee", font: "#8c8c8c" }; // a gradient or value not there yet
  var SVG = "http://www.w3.org/2000/svg";
  var state = { mode: "backward", step: 0, timer: null };
  var drawn = {}; // drawn node id -> its <g class="node"> in the SVG
  var edges = []; // {el, from, to}: one per SVG edge
  var producer = {}; // tensor id -> the op that made it

  function $(id) { return document.getElementById(id); }
  function field(name) { return document.querySelector('[data-field="' + name + '"]'); }
  function set(name, text) { field(name).textContent = text; }
  function each(object, fn) { Object.keys(object).forEach(function (k) { fn(object[k], k); }); }

  // ---------------------------------------------------------------- numbers, as the trace prints
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
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  // ---------------------------------------------------------------- the SVG graph
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
    each(data.ops, function (op) { producer[op.output] = op; });
  }
  function shapesOf(g) {
    var shapes = g.querySelectorAll("polygon, ellipse, path");
    return Array.prototype.filter.call(shapes, function (s) {
      return s.getAttribute("fill") !== "none";
    });
  }
  function paint(g, color, font) { // null, null: the colours dot drew
    shapesOf(g).forEach(function (s) { s.style.fill = color || ""; });
    g.querySelectorAll("text").forEach(function (t) { t.style.fill = font || ""; });
  }

  // ---------------------------------------------------------------- what a step shows
  function order() { return data[state.mode]; }
  function stepOf(op) { return op[state.mode + "_step"]; }
  function currentOp() { return state.step ? data.ops[order()[state.step - 1]] : null; }
  function info(tensor) { return state.mode === "backward" ? tensor.grad : tensor.value; }
  function arrived(tensor) {
    var i = info(tensor);
    return i !== null && i.at !== null && i.at <= state.step;
  }

  function paintTensors() {
    each(data.tensors, function (t) {
      var g = drawn[t.drawn];
      if (!g || t.drawn === "more") return;
      if (arrived(t)) paint(g, info(t).color, info(t).font);
      else if (state.mode === "backward" && !t.requires_grad) paint(g, null, null); // constant
      else paint(g, WAITING.fill, WAITING.font);
    });
  }
  function paintOps(current) {
    var here = current ? current.drawn : null;
    each(data.ops, function (op) {
      var g = drawn[op.drawn];
      if (!g || op.drawn === "more") return;
      g.classList.toggle("current", op.drawn === here);
      g.classList.toggle("pending", stepOf(op) === null || stepOf(op) > state.step);
    });
    if (drawn.more) drawn.more.classList.toggle("current", here === "more");
    edges.forEach(function (e) {
      var touches = e.from === here || e.to === here;
      e.el.classList.toggle("flow", here !== null && here !== "more" && touches);
    });
  }

  function go(step) {
    state.step = Math.max(0, Math.min(order().length, step));
    var op = currentOp();
    $("slider").value = state.step;
    $("step-label").textContent = "step " + state.step + " / " + order().length;
    paintTensors();
    paintOps(op);
    if (op) showOp(op);
    else showStart();
    if (op) scrollToNode(drawn[op.drawn]);
  }
  function scrollToNode(g) { // by hand: scrollIntoView would scroll a notebook around us too
    var pane = $("graph");
    var box = g.getBoundingClientRect(), view = pane.getBoundingClientRect();
    var inside = box.top >= view.top && box.bottom <= view.bottom &&
      box.left >= view.left && box.right <= view.right;
    if (inside) return;
    pane.scrollTop += box.top + box.height / 2 - (view.top + view.height / 2);
    pane.scrollLeft += box.left + box.width / 2 - (view.left + view.width / 2);
  }
  function jumpTo(id) { // a click: an op's step, or the step at which a tensor's data arrived
    var op = data.ops[id], tensor = data.tensors[id];
    if (op && stepOf(op) !== null) go(stepOf(op));
    else if (tensor && info(tensor) && info(tensor).at !== null) go(info(tensor).at);
  }

  // ---------------------------------------------------------------- the side panel
  function showOp(op) {
    var backward = state.mode === "backward";
    var out = data.tensors[op.output];
    var hidden = op.drawn !== "more" ? "" : " It is drawn inside the “… more nodes” box: " +
      "pass a larger max_nodes= to draw it.";
    set("step", "step " + state.step + " of " + order().length);
    set("op", op.op);
    set("layer", op.layer || "— (outside the model)");
    set("site", op.site === "?" ? "? (the forward ran outside record_sites())" : op.site);
    set("saved", bytes(op.saved_bytes));
    set("explain", (backward ? explainBackward(op) : explainForward(op)) + hidden);
    showFlows(op, backward);
    set("histogram-title", (backward ? "entries of the gradient it received" :
      "entries of its output") + " (" + out.shape + ")");
    showHistogram(backward ? out.grad && out.grad.histogram : out.value.histogram);
    set("source", data.sources[op.source][state.mode]);
    showHeadings(backward);
  }
  function explainBackward(op) {
    var sent = op.grad_out.filter(function (g) { return g !== null; }).length;
    return op.op + " receives ∂loss/∂output and sends ∂loss/∂input to " + sent +
      " of its " + plural(op.inputs.length, "input") + ", through the backward below.";
  }
  function explainForward(op) {
    return op.op + " computes its output from " + plural(op.inputs.length, "input") +
      " and keeps " + bytes(op.saved_bytes) + " for backward.";
  }
  function showStart() {
    var backward = state.mode === "backward";
    var loss = Object.keys(data.tensors).filter(function (id) {
      return data.tensors[id].kind === "output";
    })[0];
    set("step", "start");
    set("op", backward ? "Backward starts at the loss" : "Forward starts at the inputs");
    set("explain", backward ?
      "The forward pass is done. Backward seeds ∂loss/∂loss = 1, then visits every node " +
      "after all the nodes that used its output. Press ▶ or → to visit node 1." :
      "The inputs and parameters are ready. Forward runs each op once its inputs exist. " +
      "Press ▶ or → to run op 1.");
    set("layer", "—");
    set("site", data.meta.made_at || "—");
    set("saved", bytes(data.meta.saved_bytes) + " in all");
    field("flows").textContent = "";
    field("flows").appendChild(flowRow("loss", loss, info(data.tensors[loss]), "output"));
    set("histogram-title", "");
    showHistogram(null);
    set("source", "");
    showHeadings(backward);
  }
  function showHeadings(backward) {
    set("norm-head", backward ? "‖grad‖" : "‖value‖");
    set("source-title", (backward ? "backward" : "forward") + " source");
  }
  function showFlows(op, backward) {
    var body = field("flows"), out = op.output;
    body.textContent = "";
    if (backward) body.appendChild(flowRow("receives at", out, { norm: op.grad_in }, "output"));
    op.inputs.forEach(function (id, k) {
      var norm = backward ? { norm: op.grad_out[k] } : data.tensors[id].value;
      body.appendChild(flowRow((backward ? "sends to input " : "input ") + k, id, norm, "input"));
    });
    if (!backward) body.appendChild(flowRow("output", out, data.tensors[out].value, "output"));
  }
  function flowRow(role, tensorId, norm, kind) { // one row: role, tensor, shape, norm
    var t = data.tensors[tensorId];
    var row = document.createElement("tr");
    var chip = document.createElement("span");
    row.setAttribute("data-role", kind);
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
  function label(tensorId, kind) {
    var t = data.tensors[tensorId];
    if (t.name) return t.name;
    if (kind === "output") return "its output";
    if (producer[tensorId]) return "from " + producer[tensorId].op;
    return t.kind === "parameter" ? "parameter" : "input";
  }

  function svgElement(name, attributes, text) {
    var el = document.createElementNS(SVG, name);
    each(attributes, function (value, key) { el.setAttribute(key, value); });
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function showHistogram(h) { // bars of the counts, min and max under them
    var box = field("histogram");
    box.textContent = "";
    if (!h || !h.counts.length) return;
    var width = 400, plot = 80, top = Math.max.apply(null, h.counts), bar = width / h.counts.length;
    var svg = svgElement("svg", { viewBox: "0 0 " + width + " 110", role: "img" });
    var grey = { "font-size": 12, fill: "#59636e" };
    h.counts.forEach(function (count, k) {
      var tall = count ? Math.max(1, (plot * count) / top) : 0;
      svg.appendChild(svgElement("rect", {
        x: k * bar + 1, y: plot - tall, width: bar - 2, height: tall, fill: "#1f5fa8" }));
    });
    svg.appendChild(svgElement("line", {
      x1: 0, y1: plot + 0.5, x2: width, y2: plot + 0.5, stroke: "#999" }));
    svg.appendChild(svgElement("text", Object.assign({ x: 0, y: plot + 16 }, grey), g3(h.min)));
    svg.appendChild(svgElement("text", Object.assign(
      { x: width, y: plot + 16, "text-anchor": "end" }, grey), g3(h.max)));
    var note = h.size.toLocaleString("en-US") + " entries · mean " + g3(h.mean) +
      (h.nonfinite ? " · " + h.nonfinite + " NaN or inf" : "");
    svg.appendChild(svgElement("text", Object.assign(
      { x: width / 2, y: plot + 28, "text-anchor": "middle" }, grey), note));
    box.appendChild(svg);
  }

  function showLegend() {
    var backward = state.mode === "backward";
    var title = document.createElement("span");
    var ramp = document.createElement("span");
    title.textContent = backward ?
      "‖gradient‖, log scale (pale = vanishing):" : "‖value‖, log scale:";
    ramp.className = "ramp";
    data.legend[state.mode].forEach(function (stop, k) {
      var swatch = document.createElement("span");
      swatch.style.background = stop[0];
      swatch.style.color = k > 2 ? "#fff" : "#000";
      swatch.textContent = stop[1];
      ramp.appendChild(swatch);
    });
    $("legend").textContent = "";
    $("legend").append(title, ramp,
      key(WAITING.fill, backward ? "gradient not arrived yet" : "not computed yet"),
      key("#ffffff", "current node", "current"));
  }
  function key(color, text, extra) {
    var item = document.createElement("span"), box = document.createElement("span");
    box.className = "swatch" + (extra ? " " + extra : "");
    box.style.background = color;
    item.append(box, text);
    return item;
  }

  // ---------------------------------------------------------------- controls
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
  function setMode(mode) { // keeps the current op, at its step in the other order
    var op = currentOp();
    pause();
    state.mode = mode;
    document.querySelectorAll(".modes button").forEach(function (b) {
      b.classList.toggle("on", b.dataset.mode === mode);
    });
    $("slider").max = order().length;
    showLegend();
    go(op && stepOf(op) !== null ? stepOf(op) : 0);
  }
  function wire() {
    $("first").onclick = function () { pause(); go(0); };
    $("prev").onclick = function () { pause(); go(state.step - 1); };
    $("next").onclick = function () { pause(); go(state.step + 1); };
    $("last").onclick = function () { pause(); go(order().length); };
    $("play").onclick = play;
    $("slider").oninput = function () { pause(); go(Number(this.value)); };
    $("speed").onchange = function () { if (state.timer) { pause(); play(); } };
    document.querySelectorAll(".modes button").forEach(function (b) {
      b.onclick = function () { setMode(b.dataset.mode); };
    });
    var keys = { ArrowRight: "next", ArrowLeft: "prev", Home: "first", End: "last", " ": "play" };
    document.addEventListener("keydown", function (event) {
      var tag = event.target.tagName;
      var typing = tag === "INPUT" || tag === "SELECT";
      if (typing || event.altKey || event.ctrlKey || event.metaKey || !keys[event.key]) return;
      event.preventDefault();
      $(keys[event.key]).click();
    });
  }

  indexGraph();
  wire();
  setMode("backward");
  window.backpropExplorer = { go: go, setMode: setMode, state: state }; // for the tests
  document.body.setAttribute("data-ready", "true");
})();
