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
// The step slider may be the browser's alone (spec.slider: Streamlit's on_change="ignore", so moving it
// sends nothing; the server reads its value with the next run). Elements drawn with it show its step
// as it moves: frames that follow the view show it at once and the address bar gets that step's share
// link (spec.links); an element that shows one step only asks the server for the new one (the trigger
// "step", the first in spec.ask order).
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
    Plotly.purge(plot);
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
      Plotly.react(plot, figure.data, layout, config);
      plot.dataset.drawn = drawn;
      plot.dataset.draws = String((Number(plot.dataset.draws) || 0) + 1); // (tests count redraws)
    }
    if (!block.width) followWidth(Plotly, host, plot);
    plot.dataset.clickable = block.clickable ? "1" : "";
    if (!plot.dataset.listening) {
      plot.dataset.listening = "1";
      plot.on("plotly_click", (event) => {
        const point = event && event.points && event.points[0];
        if (!point || !plot.dataset.clickable) return;
        setTriggerValue("click", { chart: plot.dataset.chart, x: point.x, y: point.y });
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
let lastView = null; // the view last announced: a slider's move keeps its row and neuron

function announce(view) {
  lastView = view;
  for (const host of followers.keys()) {
    if (!host.isConnected) followers.delete(host);
    else if (host.dataset.pending === "0") showView(host, view);
  }
}

const watchers = new Map(); // host -> { spec, setTriggerValue }: elements drawn with the slider
const ASK_AFTER_MS = 250; // a run that moves the slider brings its new elements too: no need to ask
let asking = null;

function sliderKey(input) {
  const box = input.closest("[class*='st-key-']");
  const found = box && [...box.classList].find((name) => name.startsWith("st-key-"));
  return found ? found.slice("st-key-".length) : null;
}

function writeLink(link) {
  const url = new URL(window.location.href);
  if (!link || url.searchParams.get("s") === link) return;
  url.searchParams.set("s", link);
  window.history.replaceState(window.history.state, "", url.toString());
}

function sliderMoved(key, step) {
  const mine = [...watchers.entries()].filter(([host, w]) => {
    if (!host.isConnected) watchers.delete(host);
    return host.isConnected && w.spec.slider === key;
  });
  if (!mine.length || !Number.isInteger(step)) return;
  announce({ row: 0, neuron: 0, ...(lastView || {}), step }); // (every element that follows the view)
  for (const [host, w] of mine) {
    if (w.spec.links && followers.has(host)) writeLink(w.spec.links[step]);
  }
  clearTimeout(asking);
  asking = setTimeout(() => askFor(key), ASK_AFTER_MS);
}

function sliderStep(key) {
  const input = document.querySelector(`.st-key-${CSS.escape(key)} input[type="range"]`);
  const step = input ? Number(input.value) : NaN;
  return Number.isInteger(step) ? step : null;
}

// An element still showing one step other than the slider's asks the server (one does: the page's
// part it is in reruns with the slider's value).
function askFor(key) {
  const step = sliderStep(key);
  if (step === null) return;
  const behind = [...watchers.entries()]
    .filter(([host, w]) => host.isConnected && w.spec.slider === key && !followers.has(host))
    .filter(([host]) => host.dataset.pending === "0" && Number(host.dataset.step) !== step)
    .sort(([, a], [, b]) => a.spec.ask - b.spec.ask);
  if (behind.length) behind[0][1].setTriggerValue("step", step);
}

function watchSlider() {
  if (window.__rvSlider) return;
  window.__rvSlider = new MutationObserver((records) => {
    for (const { target } of records) {
      if (target.matches && target.matches("input[type='range']")) {
        const key = sliderKey(target);
        if (key) sliderMoved(key, Number(target.value));
      }
    }
  });
  window.__rvSlider.observe(document.body, { subtree: true, attributes: true, attributeFilter: ["aria-valuetext"] });
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
  if (spec.slider) {
    watchers.set(host, { spec, setTriggerValue });
    watchSlider();
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
        const moved = spec.slider ? sliderStep(spec.slider) : null; // (moved while this was drawing)
        const step = moved === null ? spec.start : moved;
        showView(host, { step, row, neuron });
        if (spec.links && step !== spec.start) writeLink(spec.links[step]);
      } else if (spec.frames) play(Plotly, host, spec, setTriggerValue);
      else {
        draw(Plotly, host, spec, spec.blocks, setTriggerValue, null);
        delete host.dataset.frame;
        if (spec.slider && sliderStep(spec.slider) !== spec.step) { // (moved while this was drawing)
          clearTimeout(asking);
          asking = setTimeout(() => askFor(spec.slider), ASK_AFTER_MS);
        }
      }
      if (spec.step !== undefined) host.dataset.step = String(spec.step); // (one step: which)
      else delete host.dataset.step;
      host.dataset.pending = "0";
    })
    .catch((error) => {
      host.textContent = `The charts could not be drawn: ${error.message}`;
      host.dataset.pending = "0";
    });
}
