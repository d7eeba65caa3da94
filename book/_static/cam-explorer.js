/*
 * The SeCAM explorer of chapter 5, on the website, where no Python runs.
 *
 * book_tools.web_explorer (explorer.web_version() in the chapter) writes a
 * <div class="cam-web-explorer"> holding a paragraph for JupyterLab and the
 * explorer's numbers as <script type="application/json">: per image the photo
 * (JPEG), the top classes, each class's CAM on the feature grid (float32), and per
 * superpixel setting the superpixels (uint16, gzip) and each class's SeCAM value
 * per superpixel (float32). This script, loaded by every page of the site
 * (_config.yml: html_js_files), turns each such div into controls and a canvas,
 * and draws with the arithmetic of SecamExplorer.render, step by step:
 *
 *   upsample   maps.upsample: R M Cᵀ with torch's float32 weights (align_corners=False)
 *   normalise  maps.normalise("relu_max"): max(M, 0) / max M, as float32
 *   colour     viz.overlay: the colour map's entry floor(256 v) (1 → 255), then
 *              round(255 ((1 - α) image / 255 + α colour)), halves to even as NumPy
 *   threshold  maps.threshold_mask: keep v > t·max (float32); the rest × 0.3, truncated
 *
 * Plain ES2017, no library, no network. Once drawn, the div gets data-ready="true";
 * data-draws counts the drawings (the tests wait on both). The four steps are
 * window.CamExplorer's, which cam-photo.js (the reader's own photo) draws with.
 */
(function () {
  "use strict";

  const FORMAT = 1;
  let explorers = 0;

  // ------------------------------------------------------------ decoding

  function bytesOf(base64) {
    const text = atob(base64);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }

  function float32sOf(base64) {
    const bytes = bytesOf(base64);
    const view = new DataView(bytes.buffer);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }

  async function labelsOf(base64, length) {
    const stream = new Blob([bytesOf(base64)]).stream().pipeThrough(new DecompressionStream("gzip"));
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    if (bytes.length !== 2 * length) throw new Error(`superpixel map holds ${bytes.length / 2} labels, not ${length}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Uint16Array(length);
    for (let i = 0; i < length; i++) out[i] = view.getUint16(2 * i, true);
    return out;
  }

  async function pixelsOf(image) {
    const blob = new Blob([bytesOf(image.jpeg)], { type: "image/jpeg" });
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    if (bitmap.close) bitmap.close();
    return context.getImageData(0, 0, image.width, image.height).data;
  }

  // ------------------------------------------------------------ the arithmetic of tutorial_utils

  // maps.interpolation_matrix(n, size): for each output row, its (input, weight) pairs, float32.
  function interpolation(n, size) {
    const scale = Math.fround(n / size);
    const rows = [];
    for (let y = 0; y < size; y++) {
      const src = Math.max(Math.fround(scale * (y + 0.5) - 0.5), 0);
      const i0 = Math.trunc(src);
      const i1 = i0 < n - 1 ? i0 + 1 : i0;
      const l1 = Math.min(Math.max(Math.fround(src - i0), 0), 1);
      const l0 = Math.fround(1 - l1);
      const terms = i1 === i0 ? [[i0, Math.fround(l0 + l1)]] : [[i0, l0], [i1, l1]];
      rows.push(terms.filter((term) => term[1] !== 0));
    }
    return rows;
  }

  // maps.upsample: up(M) = R M Cᵀ in float32, rounded as torch's CPU matrix products were
  // measured to round them (x86-64, torch 2: R M with each product rounded, then added;
  // (R M) Cᵀ with fused multiply-adds). Another CPU may differ in the last bit.
  function upsample(grid, h, w, height, width) {
    const rows = interpolation(h, height);
    const cols = interpolation(w, width);
    const half = new Float32Array(height * w);
    for (let y = 0; y < height; y++) {
      for (let j = 0; j < w; j++) {
        let acc = 0;
        for (const [i, r] of rows[y]) acc = Math.fround(acc + Math.fround(r * grid[i * w + j]));
        half[y * w + j] = acc;
      }
    }
    const out = new Float32Array(height * width);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (const [j, c] of cols[x]) acc = Math.fround(acc + c * half[y * w + j]);
        out[y * width + x] = acc;
      }
    }
    return out;
  }

  // maps.normalise ("relu_max") and the colour map's lookup in viz.overlay: an entry per pixel.
  function colourIndex(values, top) {
    const index = new Uint8Array(values.length);
    if (top > 0) {
      for (let p = 0; p < values.length; p++) {
        const v = Math.fround(Math.max(values[p], 0) / top);
        index[p] = Math.min(Math.floor(v * 256), 255);
      }
    }
    return index;
  }

  // np.round: halves to the even neighbour.
  function roundHalfEven(x) {
    const low = Math.floor(x);
    const rest = x - low;
    if (rest > 0.5) return low + 1;
    if (rest < 0.5) return low;
    return low % 2 === 0 ? low : low + 1;
  }

  // viz.overlay, then SecamExplorer.render's threshold: the RGBA pixels of the canvas.
  function compose(out, rgba, shown, colours, alpha, threshold, dimmed) {
    const { values, index, top } = shown;
    const keepAbove = Math.fround(Math.fround(threshold) * top);
    const dim = threshold > 0;
    const nothingKept = !(top > 0); // threshold_mask keeps nothing when no value is positive
    const beta = 1 - alpha;
    for (let p = 0; p < values.length; p++) {
      const colour = colours[index[p]];
      const drop = dim && (nothingKept || !(values[p] > keepAbove));
      for (let k = 0; k < 3; k++) {
        let v = roundHalfEven((beta * (rgba[4 * p + k] / 255) + alpha * colour[k]) * 255);
        if (drop) v = Math.floor(v * dimmed);
        out[4 * p + k] = v;
      }
      out[4 * p + 3] = 255;
    }
  }

  function maxOf(values) {
    let top = -Infinity;
    for (let p = 0; p < values.length; p++) if (values[p] > top) top = values[p];
    return top;
  }

  // ------------------------------------------------------------ the page

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function percent(p) {
    return `${(100 * p).toFixed(1)}%`;
  }

  function settingText(s) {
    return `n_segments ${s.n_segments}, compactness ${s.compactness} (${s.count} superpixels)`;
  }

  function list(items) {
    return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
  }

  function build(container, data) {
    const id = `cam-web-explorer-${++explorers}`;
    const first = data.images[0];
    const settings = first.segmentations.map((s) => [s.n_segments, s.compactness]);
    const compactness = [...new Set(settings.map((s) => s[1]))];
    const oneCompactness = compactness.length === 1;
    const offered = oneCompactness
      ? `n_segments ${list(settings.map((s) => s[0]))} at compactness ${compactness[0]}`
      : list(settings.map((s) => `n_segments ${s[0]} at compactness ${s[1]}`));
    const note = element("p", {
      class: "cam-web-explorer-note",
      text: "On this page, with no Python behind it, the image, the class, the method, the superpixel setting " +
        `(precomputed: ${offered}), the threshold and the opacity respond. Other n_segments or compactness ` +
        "values need SLIC, hence Python: open this chapter in JupyterLab and use the live explorer there.",
    });

    const field = (name, text, control, shown) => {
      control.id = `${id}-${name}`;
      const parts = [element("label", { for: control.id, text }), control];
      if (shown) parts.push(shown);
      return element("div", { class: "cam-web-explorer-field" }, parts);
    };
    const image = element("select");
    for (const one of data.images) image.append(element("option", { value: one.name, text: one.name }));
    const klass = element("select");
    const method = element("fieldset", { class: "cam-web-explorer-field" }, [element("legend", { text: "method" })]);
    for (const name of data.methods) {
      const input = element("input", { type: "radio", name: `${id}-method`, value: name, id: `${id}-method-${name}` });
      method.append(input, element("label", { for: input.id, text: ` ${name} ` }));
    }
    const superpixels = element("select");
    const range = (min, max, value) => element("input", { type: "range", min, max, step: "0.05", value: String(value) });
    const threshold = range(0, 0.95, data.start.threshold);
    const alpha = range(0, 1, data.start.alpha);
    const thresholdShown = element("output", { for: `${id}-threshold` });
    const alphaShown = element("output", { for: `${id}-alpha` });
    const canvas = element("canvas", { role: "img", class: "cam-web-explorer-canvas" });
    const status = element("p", { class: "cam-web-explorer-status" });
    const controls = element("div", { class: "cam-web-explorer-controls" }, [
      field("image", "image", image),
      field("class", "class", klass),
      method,
      field("superpixels", "n_segments", superpixels),
      field("threshold", "threshold (·max)", threshold, thresholdShown),
      field("alpha", "opacity", alpha, alphaShown),
    ]);

    const fallback = container.querySelector(".cam-web-explorer-fallback");
    if (fallback) fallback.hidden = true;
    container.append(note, controls, canvas, status);

    image.value = data.images.some((one) => one.name === data.start.image) ? data.start.image : first.name;
    const startMethod = container.querySelector(`input[value="${data.start.method}"]`) ||
      container.querySelector("input[type=radio]");
    startMethod.checked = true;

    const colours = data.colours;
    // Photos and superpixels are kept; of the maps (about 5 bytes a pixel), the most recent few.
    const kept = new Map();
    const recent = new Map();
    const RECENT = 12;
    const remember = async (key, make) => {
      if (!kept.has(key)) kept.set(key, await make());
      return kept.get(key);
    };
    const rememberRecent = async (key, make) => {
      let value = recent.get(key);
      if (value === undefined) value = await make();
      recent.delete(key);
      recent.set(key, value);
      while (recent.size > RECENT) recent.delete(recent.keys().next().value);
      return value;
    };
    const current = () => data.images.find((one) => one.name === image.value);

    function fillChoices(keepSetting) {
      const one = current();
      klass.replaceChildren(...one.classes.map((c, i) =>
        element("option", { value: String(i), text: `${c.label} (${percent(c.probability)})` })));
      const chosen = keepSetting ? superpixels.selectedIndex : data.start.setting;
      superpixels.replaceChildren(...one.segmentations.map((s, i) => element("option", {
        value: String(i),
        text: oneCompactness ? `${s.n_segments} (${s.count} superpixels)`
          : `${s.n_segments}, compactness ${s.compactness} (${s.count} superpixels)`,
      })));
      superpixels.selectedIndex = Math.min(Math.max(chosen, 0), one.segmentations.length - 1);
    }

    // The map render draws (CAM upsampled, or SeCAM painted), its maximum and its colours.
    function map(one, c, methodName, s) {
      const n = one.width * one.height;
      const key = methodName === "CAM" ? `cam/${one.name}/${c}` : `secam/${one.name}/${s}/${c}`;
      return rememberRecent(key, async () => {
        let values;
        if (methodName === "CAM") {
          values = upsample(float32sOf(one.classes[c].cam), one.grid[0], one.grid[1], one.height, one.width);
        } else {
          const seg = one.segmentations[s];
          const labels = await remember(`labels/${one.name}/${s}`, () => labelsOf(seg.labels, n));
          const means = float32sOf(seg.secam[c]);
          values = new Float32Array(n);
          for (let p = 0; p < n; p++) values[p] = means[labels[p]];
        }
        const top = maxOf(values);
        return { values, top, index: colourIndex(values, top) };
      });
    }

    async function drawNow() {
      const start = performance.now();
      const one = current();
      const c = Number(klass.value);
      const s = Number(superpixels.value);
      const methodName = container.querySelector(`input[name="${id}-method"]:checked`).value;
      const t = Number(threshold.value);
      const a = Number(alpha.value);
      thresholdShown.value = t.toFixed(2);
      alphaShown.value = a.toFixed(2);
      const rgba = await remember(`pixels/${one.name}`, () => pixelsOf(one));
      const shown = await map(one, c, methodName, s);
      if (canvas.width !== one.width || canvas.height !== one.height) {
        canvas.width = one.width;
        canvas.height = one.height;
      }
      const context = canvas.getContext("2d");
      const picture = context.createImageData(one.width, one.height);
      compose(picture.data, rgba, shown, colours, a, t, data.dimmed);
      context.putImageData(picture, 0, 0);
      const klassInfo = one.classes[c];
      let label = `${methodName} heatmap for the class ${klassInfo.label} (${percent(klassInfo.probability)}) ` +
        `over the image ${one.name}`;
      if (methodName === "SeCAM") label += `, averaged over ${settingText(one.segmentations[s])}`;
      label += t > 0 ? `; values at or below ${t.toFixed(2)} of the maximum are dimmed` : "";
      label += `; opacity ${a.toFixed(2)}`;
      canvas.setAttribute("aria-label", label);
      container.dataset.method = methodName;
      status.textContent = `Drawn in ${Math.round(performance.now() - start)} ms, in your browser.`;
    }

    let pending = false;
    let running = false;
    let draws = 0;
    async function redraw() {
      pending = true;
      if (running) return;
      running = true;
      try {
        while (pending) {
          pending = false;
          await drawNow();
          draws += 1;
        }
        container.dataset.draws = String(draws);
        container.dataset.ready = "true";
      } catch (error) {
        fail(container, error);
      } finally {
        running = false;
      }
    }

    image.addEventListener("change", () => { fillChoices(true); redraw(); });
    for (const control of [klass, superpixels, method]) control.addEventListener("change", redraw);
    for (const control of [threshold, alpha]) control.addEventListener("input", redraw);
    fillChoices(false);
    return redraw();
  }

  function fail(container, error) {
    container.dataset.error = String(error && error.message ? error.message : error);
    const message = element("p", {
      class: "cam-web-explorer-error",
      text: `The explorer could not be drawn here (${container.dataset.error}); open the chapter in JupyterLab to use it.`,
    });
    container.append(message);
    console.error("cam-explorer.js:", error);
  }

  function start() {
    for (const container of document.querySelectorAll(".cam-web-explorer")) {
      if (container.dataset.started) continue;
      container.dataset.started = "true";
      try {
        if (!window.DecompressionStream || !window.createImageBitmap) {
          throw new Error("this browser lacks DecompressionStream or createImageBitmap; a recent browser has both");
        }
        const script = container.querySelector("script.cam-web-explorer-data");
        if (!script) throw new Error("no data in the page");
        const data = JSON.parse(script.textContent);
        if (data.version !== FORMAT) throw new Error(`data format ${data.version}, this script reads ${FORMAT}`);
        if (!data.images || !data.images.length) throw new Error("the data holds no image");
        build(container, data).catch((error) => fail(container, error));
      } catch (error) {
        fail(container, error);
      }
    }
  }

  // The arithmetic, for chapter 5's "explain your own photo" (cam-photo.js draws with it too).
  window.CamExplorer = { upsample, colourIndex, compose, maxOf, element };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
