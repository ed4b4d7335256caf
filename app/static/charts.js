// The results drawn in the browser: plotly.js draws the figures the server built (app/figures, the
// same builders as the export), in the order and layout the server gave. Clicks on a clickable
// heatmap go back as one trigger {chart, x, y}; the server checks them like any other input.
// Text (captions, blank slots' words, text alternatives, paragraphs, the printout, warnings) is set as
// text, never as HTML.
// A play (spec.frames) is shown frame by frame on the browser's own clock; at its end the trigger
// "played" tells the server (only the element with spec.report does). Figures come once each, by number,
// with a revision: a chart whose figure and config did not change is not drawn again.
// Frames without a clock (spec.follow) follow the page's view: the step (and the explained cell,
// outlined on the charts marked "outlined") that the explanation element last announced (spec.view),
// so a step, neuron or row pick redraws here while the server reruns only the explanation (a row's
// charts come as "rows": one per batch row).
// The view controls (the step slider, the row and neuron pickers) may be the browser's alone
// (spec.controls: Streamlit's on_change="ignore", so moving them sends nothing; the server reads their
// values with the next run). When one moves, the elements that follow the view show the new view at
// once (and the address bar gets the step's share link, spec.controls.links, when only the step
// moved); the first element (spec.controls.ask) drawn for a view it cannot show (spec.controls.shows)
// asks the server for it: the trigger "view". A click on a cell sets the controls the same way (as
// the reader would: the slider's keys, a picker's typed label), else goes to the server as "click".
// Served at app/static/charts.js; the component's own JavaScript is a loader that imports this module
// once per page (app/components/charts/__init__.py loader()).

const PLOTLY_URL = "app/static/plotly-cartesian.min.js"; // served by Streamlit (app/static/README.md)
let loading = null;

function plotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(PLOTLY_URL, window.location.href).href;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { loading = null; reject(new Error("plotly.js did not load")); };
      document.head.appendChild(script);
    });
  }
  return loading;
}

function caption(text) {
  const p = document.createElement("div");
  p.className = "rv-caption";
  p.textContent = text;
  return p;
}

function chartBox(block, old) {
  const box = document.createElement("div");
  box.className = "rv-chart";
  box.style.width = block.width ? `${block.width}px` : "100%";
  let plot = old.get(block.id);
  if (!plot) {
    plot = document.createElement("div");
    plot.dataset.chart = block.id;
  }
  old.delete(block.id);
  plot.setAttribute("role", "img");
  plot.setAttribute("aria-label", block.alt || "");
  box.appendChild(plot);
  if (block.caption) box.appendChild(caption(block.caption));
  return [box, plot];
}

function blankBox(block) {
  const box = document.createElement("div");
  box.className = "rv-blank";
  box.style.width = block.width ? `${block.width}px` : "100%";
  box.style.height = `${block.height}px`;
  box.appendChild(caption(block.text));
  return box;
}

function printoutBox(block) {
  const box = document.createElement("div");
  box.className = "rv-printout";
  const label = document.createElement("p");
  label.className = "rv-text";
  label.textContent = block.label;
  const pre = document.createElement("pre");
  pre.textContent = block.text;
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "rv-copy";
  copy.textContent = "Copy";
  copy.title = "Copy the printout";
  copy.addEventListener("click", () => {
    const selectAll = () => window.getSelection().selectAllChildren(pre); // (no clipboard over plain http)
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(block.text).then(() => { copy.textContent = "Copied"; }, selectAll);
    } else selectAll();
  });
  const code = document.createElement("div");
  code.className = "rv-pre";
  code.append(pre, copy);
  box.append(label, code);
  return box;
}

function headingBox(block) {
  const h = document.createElement("h3");
  h.className = "rv-heading";
  h.textContent = block.text;
  return h;
}

function textBox(block) {
  const p = document.createElement("p");
  p.className = block.small ? "rv-text rv-small" : "rv-text";
  for (const [text, bold] of block.parts) {
    if (bold) {
      const strong = document.createElement("strong");
      strong.textContent = text;
      p.appendChild(strong);
    } else p.appendChild(document.createTextNode(text));
  }
  return p;
}

function noteBox(block) {
  const box = document.createElement("div");
  box.className = "rv-note";
  box.setAttribute("role", "status");
  box.textContent = `⚠️ ${block.text}`;
  return box;
}

function build(block, old, plots, cell) {
  if (block.kind === "group") {
    const group = document.createElement("div");
    group.className = block.wrap ? "rv-group rv-wrap" : "rv-group";
    for (const item of block.items) group.appendChild(build(item, old, plots, cell));
    return group;
  }
  if (block.kind === "rows") { // one chart per batch row: the view's row's
    const row = cell ? Math.max(0, Math.min(Number(cell[0]) || 0, block.items.length - 1)) : 0;
    return build(block.items[row], old, plots, cell);
  }
  if (block.kind === "blank") return blankBox(block);
  if (block.kind === "printout") return printoutBox(block);
  if (block.kind === "note") return noteBox(block);
  if (block.kind === "text") return textBox(block);
  if (block.kind === "heading") return headingBox(block);
  const [box, plot] = chartBox(block, old);
  plots.push([plot, block]);
  return box;
}

function hostOf(root) {
  let host = root.querySelector(":scope > .rv");
  if (!host) {
    host = document.createElement("div");
    host.className = "rv";
    root.appendChild(host);
  }
  return host;
}

const resizers = new WeakMap(); // host -> the ResizeObserver of its full-width charts

// A chart without a width of its own fills its column: plotly.js's `responsive` follows the window
// only, and a column can change width without the window (a slide's CSS hiding the sidebar after the
// chart was drawn: it stayed 820 px wide in a 1120 px column). Follow the chart's own box instead.
function followWidth(Plotly, host, plot) {
  let observer = resizers.get(host);
  if (!observer) {
    observer = new ResizeObserver((entries) => {
      for (const { target } of entries) {
        const drawnWidth = target._fullLayout && target._fullLayout.width;
        const width = target.clientWidth; // (0: not displayed, e.g. a slide kept offstage)
        if (target.dataset.fills && drawnWidth && width > 0 && Math.abs(drawnWidth - width) > 1) {
          Plotly.Plots.resize(target).catch(() => {}); // (hidden meanwhile: the next change redraws it)
        }
      }
    });
    resizers.set(host, observer);
  }
  observer.observe(plot);
}

// The explained cell's outline moved from the cell the server drew it on (spec.cell) to `cell`: whole
// cells across and down (app/figures/heatmap.py cell_outline builds it).
function outlineAt(spec, cell) {
  const dx = cell[1] - spec.cell[1];
  const dy = cell[0] - spec.cell[0];
  const shape = spec.outline;
  return { ...shape, x0: shape.x0 + dx, x1: shape.x1 + dx, y0: shape.y0 + dy, y1: shape.y1 + dy };
}

function draw(Plotly, host, spec, blocks, setTriggerValue, cell) {
  const old = new Map([...host.querySelectorAll("[data-chart]")].map((d) => [d.dataset.chart, d]));
  const plots = [];
  host.replaceChildren(...blocks.map((block) => build(block, old, plots, cell)));
  for (const plot of old.values()) { // charts no longer shown
    if (resizers.has(host)) resizers.get(host).unobserve(plot);
    // (after a draw still under way: plotly.js's margin pass reads the layout a purge removes)
    const purge = () => Plotly.purge(plot);
    Promise.resolve(plot.rvDrawing).then(purge, purge);
  }
  for (const [plot, block] of plots) {
    const config = { ...block.config, responsive: !block.width };
    plot.dataset.fills = block.width ? "" : "1";
    const outlined = block.outlined && cell && spec.outline;
    // Redrawn only when its figure or config changed (a view pick changes one or two of ~15 charts).
    const drawn = `${spec.revisions[block.figure]} ${JSON.stringify(config)} ${outlined ? cell : ""}`;
    if (plot.dataset.drawn !== drawn) {
      const figure = spec.figures[block.figure];
      let layout = figure.layout;
      if (outlined) layout = { ...layout, shapes: [...(layout.shapes || []), outlineAt(spec, cell)] };
      plot.rvDrawing = Plotly.react(plot, figure.data, layout, config);
      plot.dataset.drawn = drawn;
      plot.dataset.draws = String((Number(plot.dataset.draws) || 0) + 1); // (tests count redraws)
    }
    if (!block.width) followWidth(Plotly, host, plot);
    plot.dataset.clickable = block.clickable ? "1" : "";
    plot.rvClick = (click) => clickCell(spec, setTriggerValue, click); // (this data's: the newest)
    if (!plot.dataset.listening) {
      plot.dataset.listening = "1";
      plot.on("plotly_click", (event) => {
        const point = event && event.points && event.points[0];
        if (!point || !plot.dataset.clickable) return;
        plot.rvClick({ chart: plot.dataset.chart, x: point.x, y: point.y });
      });
    }
  }
}

const players = new WeakMap(); // host -> the timer of the play it shows
const followers = new Map(); // host -> what it needs to show another step: frames that follow the view

function showView(host, view) {
  const { Plotly, spec, setTriggerValue } = followers.get(host);
  const frame = Math.max(0, Math.min(Number(view.step) || 0, spec.frames.length - 1));
  const cell = spec.cell ? [view.row, view.neuron] : null;
  draw(Plotly, host, spec, spec.frames[frame], setTriggerValue, cell);
  host.dataset.frame = String(frame);
}

// The explanation element says which step and cell the page shows now: every element whose frames
// follow the view shows that step (one still drawing its own new data shows the step it came with,
// which is the same view).
let lastView = null; // the view last announced (by the explanation, or the controls' moves)

function announce(view) {
  lastView = view;
  for (const host of followers.keys()) {
    if (!host.isConnected) followers.delete(host);
    else if (host.dataset.pending === "0") showView(host, view);
  }
}

const watchers = new Map(); // host -> { spec, setTriggerValue }: elements drawn with the view controls
const ASK_AFTER_MS = 250; // a slider dragged across steps asks once, where it stops (a pick: at once)
const VIEW_FIELDS = ["step", "row", "neuron"];
let asking = null;

function controlBox(key) {
  return key ? document.querySelector(`.st-key-${CSS.escape(key)}`) : null;
}

// The value a view control shows: the slider's step, or a picker's number (its label "neuron 5");
// null when it is not on the page, or while the reader types in a picker (its list open).
function controlValue(controls, field) {
  const box = controlBox(controls.keys[field]);
  if (!box) return null;
  if (field === "step") {
    const input = box.querySelector("input[type='range']");
    const step = input ? Number(input.value) : NaN;
    return Number.isInteger(step) ? step : null;
  }
  const input = box.querySelector("input[role='combobox']");
  if (!input || input.getAttribute("aria-expanded") === "true") return null;
  const label = controls.labels[field] || "";
  const digits = input.value.startsWith(label) ? input.value.slice(label.length) : "";
  return /^\d+$/.test(digits) ? Number(digits) : null;
}

// The view the controls show (a field whose control is not the browser's: as last announced, or as
// the element was drawn).
function controlsView(controls) {
  const view = { ...controls.view, ...(lastView || {}) };
  for (const field of Object.keys(controls.keys)) {
    const value = controlValue(controls, field);
    if (value !== null) view[field] = value;
  }
  return view;
}

function sameView(a, b) {
  return VIEW_FIELDS.every((field) => a[field] === b[field]);
}

function writeLink(link) {
  const url = new URL(window.location.href);
  if (!link || url.searchParams.get("s") === link) return;
  url.searchParams.set("s", link);
  window.history.replaceState(window.history.state, "", url.toString());
}

function liveWatchers() {
  for (const host of watchers.keys()) if (!host.isConnected) watchers.delete(host);
  return [...watchers.entries()];
}

// Does this element, drawn, show a view other than `view` that it cannot draw alone?
function behind(host, controls, view) {
  if (host.dataset.pending !== "0") return false; // (its new data is on the way)
  return VIEW_FIELDS.some((field) => view[field] !== controls.view[field] && !controls.shows.includes(field));
}

// A view control moved (the reader, or a click set it): every element that follows the view shows
// it; the address bar gets its link when only the step moved; then the first element that cannot
// show it asks the server (the trigger "view": its part of the page reruns with the controls' values).
function controlsMoved(delay) {
  const live = liveWatchers();
  if (!live.length) return;
  const view = controlsView(live[0][1].spec.controls);
  if (!lastView || !sameView(view, lastView)) announce(view);
  for (const [host, { spec }] of live) {
    const { links, view: drawn } = spec.controls;
    const onlyStep = view.row === drawn.row && view.neuron === drawn.neuron;
    if (links && followers.has(host) && onlyStep) writeLink(links[view.step]);
  }
  clearTimeout(asking);
  asking = setTimeout(askFor, delay);
}

function askFor() {
  const live = liveWatchers();
  if (!live.length) return;
  const view = controlsView(live[0][1].spec.controls);
  const late = live
    .filter(([host, { spec }]) => behind(host, spec.controls, view))
    .sort(([, a], [, b]) => a.spec.controls.ask - b.spec.controls.ask);
  if (!late.length) return;
  const [host, { setTriggerValue }] = late[0];
  const asked = JSON.stringify(view);
  if (host.dataset.asked === asked) return; // (asked already: the server answered another view)
  host.dataset.asked = asked;
  setTriggerValue("view", view);
}

function controlKeys() {
  const keys = new Set();
  for (const [, { spec }] of liveWatchers()) for (const key of Object.values(spec.controls.keys)) keys.add(key);
  return keys;
}

function keyOf(node) {
  const box = node.closest && node.closest("[class*='st-key-']");
  const found = box && [...box.classList].find((name) => name.startsWith("st-key-"));
  return found ? found.slice("st-key-".length) : null;
}

function watchControls() {
  if (window.__rvControls) return;
  window.__rvControls = new MutationObserver((records) => {
    const keys = controlKeys();
    let delay = null;
    for (const { target } of records) {
      if (!target.matches || !target.matches("input[type='range'], input[role='combobox']")) continue;
      if (!keys.has(keyOf(target))) continue;
      const slid = target.type === "range" ? ASK_AFTER_MS : 0;
      delay = delay === null ? slid : Math.max(delay, slid);
    }
    if (delay !== null) controlsMoved(delay);
  });
  window.__rvControls.observe(document.body, {
    subtree: true,
    attributes: true,
    attributeFilter: ["aria-valuetext", "value", "aria-expanded"],
  });
}

// Set a view control as the reader would (Streamlit keeps the value; with on_change="ignore" it sends
// nothing): the slider by its arrow keys, a picker by typing its label and taking the first option.
function setControl(controls, field, value) {
  const box = controlBox(controls.keys[field]);
  if (!box) return false;
  if (field === "step") {
    const input = box.querySelector("input[type='range']");
    if (!input) return false;
    const press = (key) => {
      input.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
      input.dispatchEvent(new KeyboardEvent("keyup", { key, bubbles: true, cancelable: true }));
    };
    const moves = value - Number(input.value);
    for (let i = 0; i < Math.abs(moves); i++) press(moves > 0 ? "ArrowRight" : "ArrowLeft");
  } else {
    const input = box.querySelector("input[role='combobox']");
    if (!input) return false;
    const label = `${controls.labels[field] || ""}${value}`;
    const press = (key) => input.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
    input.focus({ preventScroll: true });
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, label);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    press("ArrowDown"); // (the exact label is the first option that contains it: "neuron 5" before "neuron 50")
    press("Enter");
    input.blur();
  }
}

// The view a click on a cell picks: y_t's (row, neuron) at step t, or the row view's (step, neuron).
function clickedView(chart, x, y, now) {
  if (chart.startsWith("hidden_")) return { step: Number(chart.slice("hidden_".length)), row: y, neuron: x };
  if (chart === "row_view") return { ...now, step: y, neuron: x };
  return null;
}

// A click on a cell: set the view controls in the browser when every one it moves is the browser's
// (the slider takes its keys on the next frame); else, or when one did not take its value, the
// server sets them (the trigger "click").
function clickCell(spec, setTriggerValue, click) {
  const controls = spec.controls;
  const now = controls ? controlsView(controls) : null;
  const view = now && Number.isInteger(click.x) && Number.isInteger(click.y)
    ? clickedView(click.chart, click.x, click.y, now) : null;
  const moves = view ? VIEW_FIELDS.filter((field) => view[field] !== now[field]) : [];
  if (!view || !moves.every((field) => field in controls.keys)) {
    setTriggerValue("click", click);
    return;
  }
  for (const field of moves) setControl(controls, field, view[field]);
  requestAnimationFrame(() => {
    if (moves.every((field) => controlValue(controls, field) === view[field])) controlsMoved(0);
    else setTriggerValue("click", click);
  });
}

function play(Plotly, host, spec, setTriggerValue) {
  const last = spec.frames.length - 1;
  let frame = Math.max(0, Math.min(Number(spec.start) || 0, last));
  const show = () => {
    draw(Plotly, host, spec, spec.frames[frame], setTriggerValue, spec.cell);
    host.dataset.frame = String(frame);
    host.dataset.playing = "1"; // (tests and benchmarks: a play, not frames that follow the view)
  };
  show();
  const timer = setInterval(() => {
    if (!host.isConnected) { // the element left the page (another view took its place): no report
      clearInterval(timer);
      players.delete(host);
      return;
    }
    if (frame >= last) {
      clearInterval(timer);
      players.delete(host);
      delete host.dataset.playing;
      if (spec.report) setTriggerValue("played", last);
      return;
    }
    frame += 1;
    show();
  }, Math.max(100, Number(spec.period_ms) || 1000));
  players.set(host, timer);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const spec = JSON.parse(data.spec);
  const host = hostOf(parentElement);
  clearInterval(players.get(host)); // new data ends a play
  players.delete(host);
  followers.delete(host);
  delete host.dataset.playing;
  watchers.delete(host);
  if (spec.view) announce(spec.view);
  if (spec.controls) {
    watchers.set(host, { spec, setTriggerValue });
    watchControls();
  }
  host.dataset.specs = String((Number(host.dataset.specs) || 0) + 1); // (tests: data the server sent)
  const drawing = (Number(host.dataset.pending) || 0) + 1; // the newest data wins
  host.dataset.pending = String(drawing); // "0" once drawn: tests and benchmarks wait for it
  plotly()
    .then((Plotly) => {
      if (host.dataset.pending !== String(drawing)) return; // newer data came meanwhile
      if (spec.follow) {
        followers.set(host, { Plotly, spec, setTriggerValue });
        const [row, neuron] = spec.cell || [0, 0];
        showView(host, spec.controls ? controlsView(spec.controls) : { step: spec.start, row, neuron });
      } else if (spec.frames) play(Plotly, host, spec, setTriggerValue);
      else {
        draw(Plotly, host, spec, spec.blocks, setTriggerValue, null);
        delete host.dataset.frame;
      }
      host.dataset.pending = "0";
      if (spec.controls) controlsMoved(ASK_AFTER_MS); // (the controls moved while this was drawing)
    })
    .catch((error) => {
      host.textContent = `The charts could not be drawn: ${error.message}`;
      host.dataset.pending = "0";
    });
}
