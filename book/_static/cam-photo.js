/*
 * "Explain your own photo" (notebooks/05b_your_photo), on the website: the network runs in the reader's browser.
 *
 * book_tools.browser_model writes a <div class="cam-photo-explorer"> holding a paragraph for
 * JupyterLab and a few settings as <script type="application/json"> (the colour table, the
 * superpixel counts offered, the starting threshold and opacity). This script, loaded by every
 * page (_config.yml: html_js_files), turns such a div into a file picker, a button and two
 * canvases. Nothing is fetched until the reader asks; then, from this site only:
 *
 *   _static/model/cam-model.json    the network's name, input size, mean, std, K, grid, classes
 *   _static/model/cam-model.onnx    the network: input → feature_maps (1×K×h×w), logits (1×classes)
 *   _static/model/cam-head.bin      the linear layer: w (classes×K) and b, float32
 *   _static/vendor/onnxruntime-web/ onnxruntime-web's WebAssembly build, which runs the .onnx
 *
 * For a photo, step by step, as the book's Python does it:
 *
 *   decode      the browser decodes the file (it never leaves the machine); transparent
 *               pixels are laid over white, as load_image does
 *   preprocess  CamModel.preprocess: the whole image resized to the input size with
 *               antialiased bilinear weights on 8-bit pixels (Pillow's algorithm, which
 *               torchvision's uint8 resize follows), then (p/255 − mean)/std in float32
 *   forward     one run of the ONNX file: feature maps f and logits S; top 5 by softmax
 *   CAM         M_c = Σ_k w_k^c f_k on the grid, then cam-explorer.js's upsample, normalise,
 *               colour and threshold (window.CamExplorer), as SecamExplorer.render draws
 *   SeCAM       superpixels from cam-slic.js (chapter 4's slic_from_scratch, ported), and
 *               the mean of the upsampled CAM inside each one, drawn the same way
 *
 * Photos larger than MAX_SIDE pixels on a side are shown (and segmented) at that size; the
 * network always sees the whole photo. Gradient methods need a backward pass, which
 * onnxruntime-web's WebAssembly build does not run: they stay in JupyterLab.
 *
 * Plain ES2017, no library but onnxruntime-web. For the tests, the div gets data-state
 * (idle, loading, ready, working, drawn, error) and data-cam-ms / data-secam-ms: the
 * milliseconds from choosing the file to the drawn CAM and SeCAM.
 */
(function () {
  "use strict";

  const FORMAT = 1;
  const MAX_SIDE = 640;
  const MAX_PIXELS = 50e6; // load_image's default limit
  const SCRIPT = document.currentScript ? document.currentScript.src : document.baseURI;
  const here = (path) => new URL(path, SCRIPT).href;
  const RUNTIME = "vendor/onnxruntime-web/";

  // ------------------------------------------------------------ loading, with progress

  async function download(url, onBytes) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url.split("/").pop()}: HTTP ${response.status}`);
    const reader = response.body.getReader();
    const parts = [];
    let length = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      length += value.length;
      onBytes(value.length);
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (const part of parts) { out.set(part, at); at += part.length; }
    return out;
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`could not load ${src.split("/").pop()}`));
      document.head.append(script);
    });
  }

  let loading = null;
  // The runtime, the network and its head, once per page; onProgress(bytes so far, bytes in all).
  function loadNetwork(runtimeBytes, onProgress) {
    if (loading) return loading;
    loading = (async () => {
      const info = await (await fetch(here("model/cam-model.json"))).json();
      if (info.version !== FORMAT) throw new Error(`cam-model.json has format ${info.version}, this page reads ${FORMAT}`);
      if (!window.ort) await loadScript(here(RUNTIME + "ort.wasm.min.js"));
      const total = info.files.model.bytes + info.files.head.bytes + runtimeBytes;
      let done = 0;
      const count = (n) => { done += n; onProgress(done, total); };
      const [wasm, onnx, head] = await Promise.all([
        download(here(RUNTIME + "ort-wasm-simd-threaded.wasm"), count),
        download(here("model/" + info.files.model.name), count),
        download(here("model/" + info.files.head.name), count),
      ]);
      ort.env.wasm.wasmPaths = here(RUNTIME);
      ort.env.wasm.wasmBinary = wasm.buffer;
      // Threads need a cross-origin-isolated page, which a static site is not: one thread.
      ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
      const session = await ort.InferenceSession.create(onnx, { executionProviders: ["wasm"] });
      const values = new Float32Array(head.buffer, head.byteOffset, head.byteLength / 4);
      const K = info.channels;
      const C = info.classes;
      if (values.length !== C * K + C) throw new Error(`cam-head.bin holds ${values.length} numbers, not ${C * K + C}`);
      return { info, session, weight: values.subarray(0, C * K), bias: values.subarray(C * K) };
    })();
    loading.catch(() => { loading = null; }); // a failed load may be tried again
    return loading;
  }

  // ------------------------------------------------------------ the photo's pixels

  async function decode(file) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none",
                                               imageOrientation: "from-image" });
    } catch (error) {
      throw new UserError(`“${file.name}” is not an image this browser can read. Choose a photo: JPEG, PNG, WebP or GIF.`);
    }
    const { width, height } = bitmap;
    if (width * height > MAX_PIXELS) {
      throw new UserError(`“${file.name}” is ${width}×${height} pixels, more than ${MAX_PIXELS / 1e6} million; choose a smaller photo.`);
    }
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    if (bitmap.close) bitmap.close();
    const rgba = context.getImageData(0, 0, width, height).data;
    for (let p = 0; p < rgba.length; p += 4) { // over white, as load_image composites
      const a = rgba[p + 3];
      if (a === 255) continue;
      for (let k = 0; k < 3; k++) rgba[p + k] = Math.round((rgba[p + k] * a + 255 * (255 - a)) / 255);
      rgba[p + 3] = 255;
    }
    return { rgba, width, height };
  }

  // Pillow's antialiased bilinear resampling of 8-bit pixels: per output pixel, a triangle of
  // width max(scale, 1) on each side, weights normalised and fixed to 22 bits, rounded sums.
  function weights(inSize, outSize) {
    const scale = inSize / outSize;
    const support = Math.max(scale, 1);
    const ss = 1 / support;
    const out = [];
    for (let i = 0; i < outSize; i++) {
      const centre = (i + 0.5) * scale;
      const start = Math.max(Math.trunc(centre - support + 0.5), 0);
      const stop = Math.min(Math.trunc(centre + support + 0.5), inSize);
      const raw = [];
      let total = 0;
      for (let x = start; x < stop; x++) {
        const t = Math.abs((x - centre + 0.5) * ss);
        const w = t < 1 ? 1 - t : 0;
        raw.push(w);
        total += w;
      }
      const fixed = raw.map((w) => (w / total < 0 ? Math.trunc(-0.5 + (w / total) * 4194304)
                                                   : Math.trunc(0.5 + (w / total) * 4194304)));
      out.push({ start, fixed });
    }
    return out;
  }

  function resample(src, width, height, outW, outH) { // RGBA in, RGBA out
    const clip = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);
    const pass = (input, w, h, n, horizontal) => {
      const table = weights(horizontal ? w : h, n);
      const ow = horizontal ? n : w;
      const oh = horizontal ? h : n;
      const output = new Uint8ClampedArray(ow * oh * 4);
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          const { start, fixed } = table[horizontal ? x : y];
          for (let k = 0; k < 3; k++) {
            let sum = 2097152; // 1 << 21: rounds the shift below
            for (let j = 0; j < fixed.length; j++) {
              const at = horizontal ? (y * w + start + j) : ((start + j) * w + x);
              sum += input[4 * at + k] * fixed[j];
            }
            output[4 * (y * ow + x) + k] = clip(Math.floor(sum / 4194304));
          }
          output[4 * (y * ow + x) + 3] = 255;
        }
      }
      return output;
    };
    let pixels = src;
    let w = width;
    if (outW !== width) { pixels = pass(pixels, width, height, outW, true); w = outW; }
    if (outH !== height) pixels = pass(pixels, w, height, outH, false);
    return pixels === src ? new Uint8ClampedArray(src) : pixels;
  }

  // CamModel.preprocess: resize, then (p/255 − mean)/std in float32, channels first.
  function preprocess(photo, info) {
    const [H, W] = info.input_size;
    const pixels = resample(photo.rgba, photo.width, photo.height, W, H);
    const x = new Float32Array(3 * H * W);
    for (let k = 0; k < 3; k++) {
      const mean = Math.fround(info.mean[k]);
      const std = Math.fround(info.std[k]);
      for (let p = 0; p < H * W; p++) {
        x[k * H * W + p] = Math.fround(Math.fround(Math.fround(pixels[4 * p + k] / 255) - mean) / std);
      }
    }
    return { x, pixels };
  }

  // ------------------------------------------------------------ the maps

  function camGrid(net, featureMaps, c) { // M_c = Σ_k w_k^c f_k on the h×w grid
    const K = net.info.channels;
    const cells = featureMaps.length / K;
    const grid = new Float32Array(cells);
    for (let i = 0; i < cells; i++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += net.weight[c * K + k] * featureMaps[k * cells + i];
      grid[i] = sum;
    }
    return grid;
  }

  function superpixelMeans(values, labels, count) { // SeCAM: each pixel gets its superpixel's mean
    const sums = new Float64Array(count);
    const sizes = new Float64Array(count);
    for (let p = 0; p < values.length; p++) { sums[labels[p]] += values[p]; sizes[labels[p]] += 1; }
    const out = new Float32Array(values.length);
    for (let p = 0; p < values.length; p++) out[p] = sums[labels[p]] / sizes[labels[p]];
    return out;
  }

  function topClasses(logits, categories, k) {
    let top = -Infinity;
    for (const v of logits) if (v > top) top = v;
    let total = 0;
    for (const v of logits) total += Math.exp(v - top);
    const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
    return order.slice(0, k).map((index) => ({ index, label: categories[index],
                                               probability: Math.exp(logits[index] - top) / total }));
  }

  // ------------------------------------------------------------ the page

  class UserError extends Error {}

  // The explorer's own element builder (cam-explorer.js loads first).
  const element = (tag, attributes, children) => window.CamExplorer.element(tag, attributes, children);

  const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

  function build(container, settings) {
    const id = `cam-photo-${Math.random().toString(36).slice(2, 8)}`;
    const fallback = container.querySelector(".cam-photo-explorer-fallback");
    if (fallback) fallback.hidden = true;
    const file = element("input", { type: "file", accept: "image/*", id: `${id}-file` });
    const load = element("button", { type: "button", class: "cam-photo-load", text: "Load the network" });
    const progress = element("progress", { max: "1", value: "0", hidden: "" });
    const status = element("p", { class: "cam-photo-status", role: "status", "aria-live": "polite",
                                  text: "Choose a photo: the network is fetched from this site the first time (about " +
                                        `${settings.download_mb} MB), then runs here, in your browser.` });
    const klass = element("select", { id: `${id}-class` });
    const segments = element("select", { id: `${id}-segments` });
    for (const n of settings.n_segments) segments.append(element("option", { value: String(n), text: String(n) }));
    segments.value = String(settings.start.n_segments);
    const range = (name, max, value) => element("input", { type: "range", min: "0", max, step: "0.05",
                                                          value: String(value), id: `${id}-${name}` });
    const threshold = range("threshold", "0.95", settings.start.threshold);
    const alpha = range("alpha", "1", settings.start.alpha);
    const field = (text, control) => element("div", { class: "cam-web-explorer-field" },
                                             [element("label", { for: control.id, text }), control]);
    const controls = element("div", { class: "cam-web-explorer-controls", hidden: "" }, [
      field("class", klass), field("n_segments", segments),
      field("threshold (·max)", threshold), field("opacity", alpha)]);
    const canvases = { CAM: element("canvas", { role: "img", class: "cam-photo-canvas", "data-method": "CAM" }),
                       SeCAM: element("canvas", { role: "img", class: "cam-photo-canvas", "data-method": "SeCAM" }) };
    const ranking = element("ol", { class: "cam-photo-top", hidden: "" });
    const pictures = element("div", { class: "cam-photo-pictures", hidden: "" }, [
      element("figure", {}, [canvases.CAM, element("figcaption", { text: "CAM" })]),
      element("figure", {}, [canvases.SeCAM, element("figcaption", { text: "SeCAM" })])]);
    container.append(element("div", { class: "cam-photo-inputs" }, [
      field("your photo", file), load]), progress, status, ranking, controls, pictures);
    container.dataset.state = "idle";

    let net = null;
    let shown = null; // the photo on the page: pixels, forward pass, maps and superpixels
    const say = (text) => { status.textContent = text; };

    async function ready() {
      if (net) return net;
      container.dataset.state = "loading";
      load.disabled = true;
      progress.hidden = false;
      const started = performance.now();
      net = await loadNetwork(settings.runtime_bytes, (done, total) => {
        progress.max = total || 1;
        progress.value = done;
        say(`Fetching the network from this site: ${megabytes(done)} of ${megabytes(total)}…`);
      });
      progress.hidden = true;
      container.dataset.loadMs = String(Math.round(performance.now() - started));
      const kind = net.info.quantised ? "8-bit weights" : "float32 weights";
      say(`${net.info.display_name} is ready (${megabytes(net.info.files.model.bytes)}, ${kind}), ` +
          "running in your browser. Choose a photo.");
      load.textContent = `${net.info.display_name} loaded`;
      container.dataset.state = "ready";
      return net;
    }

    function labelsFor(n) {
      if (!shown.labels.has(n)) {
        const { display } = shown;
        shown.labels.set(n, CamSlic.slic(display.rgba, display.width, display.height,
                                         { nSegments: n, compactness: settings.compactness }));
      }
      return shown.labels.get(n);
    }

    function draw(method, values) {
      const { display } = shown;
      const E = window.CamExplorer;
      const top = E.maxOf(values);
      const map = { values, top, index: E.colourIndex(values, top) };
      const canvas = canvases[method];
      canvas.width = display.width;
      canvas.height = display.height;
      const context = canvas.getContext("2d");
      const picture = context.createImageData(display.width, display.height);
      E.compose(picture.data, display.rgba, map, settings.colours, Number(alpha.value), Number(threshold.value),
                settings.dimmed);
      context.putImageData(picture, 0, 0);
      const c = shown.top[Number(klass.value)];
      let label = `${method} heatmap of ${net.info.display_name} for the class ${c.label} over your photo`;
      if (method === "SeCAM") label += `, averaged over ${labelsFor(Number(segments.value)).count} superpixels`;
      canvas.setAttribute("aria-label", label);
    }

    function drawBoth(started) {
      const c = shown.top[Number(klass.value)].index;
      const grid = camGrid(net, shown.featureMaps, c);
      const [h, w] = net.info.grid;
      const values = window.CamExplorer.upsample(grid, h, w, shown.display.height, shown.display.width);
      draw("CAM", values);
      if (started !== undefined) container.dataset.camMs = String(Math.round(performance.now() - started));
      const { labels, count } = labelsFor(Number(segments.value));
      draw("SeCAM", superpixelMeans(values, labels, count));
      if (started !== undefined) container.dataset.secamMs = String(Math.round(performance.now() - started));
      shown.values = values;
    }

    async function explain(chosen) {
      const started = performance.now();
      container.dataset.state = "working";
      delete container.dataset.camMs;
      delete container.dataset.secamMs;
      try {
        const photo = await decode(chosen);
        await ready();
        say(`Running ${net.info.display_name} on “${chosen.name}”…`);
        const { x, pixels } = preprocess(photo, net.info);
        const [H, W] = net.info.input_size;
        const result = await net.session.run({ input: new ort.Tensor("float32", x, [1, 3, H, W]) });
        const scale = Math.min(1, MAX_SIDE / Math.max(photo.width, photo.height));
        const dw = Math.max(1, Math.round(photo.width * scale));
        const dh = Math.max(1, Math.round(photo.height * scale));
        const display = scale < 1 ? { rgba: resample(photo.rgba, photo.width, photo.height, dw, dh), width: dw, height: dh }
          : photo;
        const top = topClasses(result.logits.data, net.info.categories, 5);
        shown = { name: chosen.name, input: pixels, display, featureMaps: result.feature_maps.data,
                  logits: result.logits.data, top, labels: new Map() };
        klass.replaceChildren(...top.map((c, i) => element("option", {
          value: String(i), text: `${c.label} (${(100 * c.probability).toFixed(1)}%)` })));
        ranking.replaceChildren(...top.map((c) => element("li", {
          text: `${c.label}: ${(100 * c.probability).toFixed(1)}%` })));
        for (const part of [ranking, controls, pictures]) part.hidden = false;
        drawBoth(started);
        say(`${net.info.display_name} on “${chosen.name}”: CAM drawn in ${container.dataset.camMs} ms and SeCAM in ` +
            `${container.dataset.secamMs} ms from choosing the file, in your browser.`);
        container.dataset.state = "drawn";
      } catch (error) {
        shown = null; // no picture of an earlier photo under a message about this one
        for (const part of [ranking, controls, pictures]) part.hidden = true;
        container.dataset.state = "error";
        say(error instanceof UserError ? error.message : `Something went wrong: ${error.message || error}.`);
        status.classList.add("cam-photo-error");
        return;
      }
      status.classList.remove("cam-photo-error");
    }

    function redraw() {
      if (!shown) return;
      drawBoth();
      container.dataset.draws = String(Number(container.dataset.draws || 0) + 1);
    }

    load.addEventListener("click", () => ready().catch((error) => {
      container.dataset.state = "error";
      progress.hidden = true;
      load.disabled = false;
      say(`The network could not be loaded from this site (${error.message || error}).`);
    }));
    file.addEventListener("change", () => { if (file.files.length) explain(file.files[0]); });
    container.addEventListener("dragover", (event) => event.preventDefault());
    container.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer.files.length) explain(event.dataTransfer.files[0]);
    });
    for (const control of [klass, segments]) control.addEventListener("change", redraw);
    for (const control of [threshold, alpha]) control.addEventListener("input", redraw);
    // What the tests compare with the book's Python: the network's input and the photo as drawn.
    container.camPhoto = {
      shown: () => shown && { name: shown.name, top: shown.top, width: shown.display.width,
                              height: shown.display.height, count: labelsFor(Number(segments.value)).count },
      bytes: (what) => {
        const source = { input: shown.input, display: shown.display.rgba,
                         labels: new Uint8Array(labelsFor(Number(segments.value)).labels.buffer),
                         feature_maps: new Uint8Array(shown.featureMaps.buffer) }[what];
        let text = "";
        for (let i = 0; i < source.length; i += 32768) text += String.fromCharCode(...source.subarray(i, i + 32768));
        return btoa(text);
      },
    };
  }

  function start() {
    for (const container of document.querySelectorAll(".cam-photo-explorer")) {
      if (container.dataset.started) continue;
      container.dataset.started = "true";
      const script = container.querySelector("script.cam-photo-explorer-data");
      try {
        if (!script) throw new Error("no settings in the page");
        const settings = JSON.parse(script.textContent);
        if (settings.version !== FORMAT) throw new Error(`settings format ${settings.version}, this script reads ${FORMAT}`);
        if (!window.CamExplorer || !window.CamSlic || !window.WebAssembly || !window.createImageBitmap) {
          throw new Error("this browser lacks WebAssembly or createImageBitmap, or the site's scripts did not load");
        }
        build(container, settings);
      } catch (error) {
        container.dataset.state = "error";
        container.append(element("p", { class: "cam-photo-error",
                                         text: `This box could not start here (${error.message}).` }));
      }
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
