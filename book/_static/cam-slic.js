/*
 * Chapter 4's SLIC superpixels on the website, where no Python runs.
 *
 * A line-by-line port of tutorial_utils.slic.slic_from_scratch, the paper's algorithm as
 * chapter 4 writes it in plain NumPy. cam-photo.js (chapter 5's "explain your own photo")
 * cuts the reader's photo with it and averages the CAM inside each superpixel (SeCAM).
 * Each step below is the Python function it names, in the same order, in float64 and with
 * the same tie-breaking, so that the labels come out the same (tests/unit/test_slic_js.py
 * runs both on the same images and compares them):
 *
 *   rgbToLab      skimage.color.rgb2lab on 8-bit RGB: sRGB gamma, XYZ, CIELAB (D65, 2°)
 *   grid          _grid: S = √(N/K); round(H/S) × round(W/S) centres, each in the middle
 *                 of its cell (round halves to even, as Python's round does)
 *   move          _move_to_lowest_gradient: each centre to the pixel of its 3×3 with the
 *                 lowest gradient_magnitude (then the nearest, then the first in reading order)
 *   assign        each centre claims the pixels of its window (± ceil S around its rounded
 *                 position) that are closer to it than to any earlier claim:
 *                 D = √(d_c² + (m/S)² d_xy²)
 *   update        each centre to the mean colour and position of its pixels (a centre with
 *                 none stays); assign and update again until no centre moves tol pixels
 *                 (|Δrow| + |Δcol|), at most maxIter rounds
 *   connectivity  _enforce_connectivity: every 4-connected piece its own label, the pieces
 *                 under minSizeFactor·N/K pixels (smallest first) join their commonest
 *                 neighbour, and the labels are renumbered 0 … n-1
 *
 * Plain ES2017, no library, no network. In the browser it is window.CamSlic; in Node.js,
 * module.exports. slic(pixels, width, height, options) takes RGBA bytes as a canvas's
 * ImageData gives them (options.channels = 3 for RGB) and returns
 * { labels: Int32Array (row-major), count, iterations }.
 */
(function (root) {
  "use strict";

  const DEFAULTS = { nSegments: 100, compactness: 10, maxIter: 10, tol: 0.01, enforceConnectivity: true,
    minSizeFactor: 0.5, channels: 4 };

  // ------------------------------------------------------------ checks, gathered here

  function checkImage(pixels, width, height, channels) {
    for (const [name, value] of [["width", width], ["height", height]]) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be an integer ≥ 1, got ${value}`);
    }
    if (channels !== 3 && channels !== 4) throw new Error(`channels must be 3 (RGB) or 4 (RGBA), got ${channels}`);
    const expected = width * height * channels;
    if (!pixels || pixels.length !== expected) {
      throw new Error(`pixels must hold width × height × channels = ${width} × ${height} × ${channels} = ` +
                      `${expected} bytes, got ${pixels ? pixels.length : pixels}`);
    }
  }

  function checkNumber(value, name, low, { above = false, integer = false } = {}) {
    const ok = typeof value === "number" && (integer ? Number.isInteger(value) : Number.isFinite(value)) &&
               (above ? value > low : value >= low);
    const what = `${integer ? "an integer" : "a number"} ${above ? ">" : "≥"} ${low}`;
    if (!ok) throw new Error(`${name} must be ${what}, got ${value}`);
  }

  // Python's round() (and NumPy's): halves go to the even neighbour.
  function roundHalfEven(x) {
    const low = Math.floor(x);
    const rest = x - low;
    if (rest !== 0.5) return rest < 0.5 ? low : low + 1;
    return low % 2 === 0 ? low : low + 1;
  }

  // ------------------------------------------------------------ colour: skimage.color.rgb2lab

  const XYZ_FROM_RGB = [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]];
  const WHITE = [0.95047, 1.0, 1.08883]; // the D65 illuminant, 2° observer

  function rgbToLab(pixels, width, height, channels = 4) {
    checkImage(pixels, width, height, channels);
    const linear = new Float64Array(256); // rgb2xyz's gamma, for each byte value
    for (let v = 0; v < 256; v++) {
      const c = v * (1.0 / 255);
      linear[v] = c > 0.04045 ? Math.pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
    }
    const f = (t) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16.0 / 116.0); // xyz2lab's
    const lab = new Float64Array(3 * width * height);
    for (let p = 0; p < width * height; p++) {
      const r = linear[pixels[channels * p]], g = linear[pixels[channels * p + 1]], b = linear[pixels[channels * p + 2]];
      const [x, y, z] = XYZ_FROM_RGB.map((m, k) => f((m[0] * r + m[1] * g + m[2] * b) / WHITE[k]));
      lab[3 * p] = 116.0 * y - 16.0;
      lab[3 * p + 1] = 500.0 * (x - y);
      lab[3 * p + 2] = 200.0 * (y - z);
    }
    return lab;
  }

  // ------------------------------------------------------------ the start: _grid, gradient_magnitude, the move

  function grid(height, width, nSegments) {
    const S = Math.sqrt(height * width / nSegments);
    const nRows = Math.max(1, roundHalfEven(height / S)), nCols = Math.max(1, roundHalfEven(width / S));
    const centres = [];
    for (let i = 0; i < nRows; i++) {
      const r = Math.trunc((i + 0.5) * height / nRows);
      for (let j = 0; j < nCols; j++) centres.push([r, Math.trunc((j + 0.5) * width / nCols)]);
    }
    return { S, centres };
  }

  // G = ‖I(r+1,c) − I(r−1,c)‖² + ‖I(r,c+1) − I(r,c−1)‖², the image's edge pixels repeated outside it.
  function gradientMagnitude(feats, height, width) {
    const grad = new Float64Array(height * width);
    const squares = (p, q) => {
      const d0 = feats[3 * p] - feats[3 * q], d1 = feats[3 * p + 1] - feats[3 * q + 1];
      const d2 = feats[3 * p + 2] - feats[3 * q + 2];
      return d0 * d0 + d1 * d1 + d2 * d2;
    };
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const down = Math.min(r + 1, height - 1) * width + c, up = Math.max(r - 1, 0) * width + c;
        const right = r * width + Math.min(c + 1, width - 1), left = r * width + Math.max(c - 1, 0);
        grad[r * width + c] = squares(down, up) + squares(right, left);
      }
    }
    return grad;
  }

  // _move_to_lowest_gradient: the lowest gradient, then the nearest, then the first in reading order.
  function moveToLowestGradient(centres, grad, height, width) {
    return centres.map(([r, c]) => {
      let best = null;
      for (let rr = r - 1; rr <= r + 1; rr++) {
        for (let cc = c - 1; cc <= c + 1; cc++) {
          if (rr < 0 || rr >= height || cc < 0 || cc >= width) continue;
          const key = [grad[rr * width + cc], (rr - r) ** 2 + (cc - c) ** 2];
          const better = best === null || key[0] < best.key[0] || (key[0] === best.key[0] && key[1] < best.key[1]);
          if (better) best = { key, at: [rr, cc] }; // strict: the first in reading order stays on a full tie
        }
      }
      return best.at;
    });
  }

  // ------------------------------------------------------------ the end: _enforce_connectivity

  function enforceConnectivity(labels, height, width, minSize) {
    const N = labels.length;
    // Pieces: label value by value (sorted), each value's 4-connected pieces numbered as
    // scipy.ndimage.label numbers them, in reading order of their first pixel.
    const order = Int32Array.from(labels.keys()).sort((p, q) => labels[p] - labels[q] || p - q);
    const pieces = new Int32Array(N).fill(-1);
    const stack = new Int32Array(N);
    let n = 0;
    for (const start of order) {
      if (pieces[start] >= 0) continue;
      pieces[start] = n;
      let top = 0;
      stack[top++] = start;
      while (top > 0) {
        const p = stack[--top], r = Math.floor(p / width), c = p - r * width;
        const around = [[p - width, r > 0], [p + width, r + 1 < height], [p - 1, c > 0], [p + 1, c + 1 < width]];
        for (const [q, inside] of around) {
          if (inside && pieces[q] < 0 && labels[q] === labels[start]) { pieces[q] = n; stack[top++] = q; }
        }
      }
      n++;
    }
    // Sizes and bounding boxes (ndimage.find_objects: rows r0 … r1-1, columns c0 … c1-1).
    const sizes = new Int32Array(n);
    const boxes = Array.from({ length: n }, () => ({ r0: height, r1: 0, c0: width, c1: 0 }));
    for (let p = 0; p < N; p++) {
      const box = boxes[pieces[p]], r = Math.floor(p / width), c = p - r * width;
      sizes[pieces[p]]++;
      box.r0 = Math.min(box.r0, r); box.r1 = Math.max(box.r1, r + 1);
      box.c0 = Math.min(box.c0, c); box.c1 = Math.max(box.c1, c + 1);
    }
    const bySize = Int32Array.from(sizes.keys()).sort((a, b) => sizes[a] - sizes[b] || a - b); // stable: smallest first
    for (const piece of bySize) {
      if (sizes[piece] === 0 || sizes[piece] >= minSize) continue;
      // Inside the piece's bounding box grown by one pixel, the ring around it (a 4-connected
      // binary_dilation minus the piece) votes; most votes wins, the smallest label on ties.
      const box = boxes[piece];
      const r0 = Math.max(box.r0 - 1, 0), r1 = Math.min(box.r1 + 1, height);
      const c0 = Math.max(box.c0 - 1, 0), c1 = Math.min(box.c1 + 1, width);
      const votes = new Map();
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) {
          const p = r * width + c;
          if (pieces[p] === piece) continue;
          if ((r > r0 && pieces[p - width] === piece) || (r + 1 < r1 && pieces[p + width] === piece) ||
              (c > c0 && pieces[p - 1] === piece) || (c + 1 < c1 && pieces[p + 1] === piece)) {
            votes.set(pieces[p], (votes.get(pieces[p]) || 0) + 1);
          }
        }
      }
      if (votes.size === 0) continue;
      let target = -1;
      for (const [label, count] of votes) {
        if (target < 0 || count > votes.get(target) || (count === votes.get(target) && label < target)) target = label;
      }
      for (let r = r0; r < r1; r++) {
        for (let p = r * width + c0; p < r * width + c1; p++) if (pieces[p] === piece) pieces[p] = target;
      }
      sizes[target] += sizes[piece];
      sizes[piece] = 0;
      const into = boxes[target];
      into.r0 = Math.min(into.r0, box.r0); into.r1 = Math.max(into.r1, box.r1);
      into.c0 = Math.min(into.c0, box.c0); into.c1 = Math.max(into.c1, box.c1);
    }
    return consecutive(pieces);
  }

  // np.unique(labels, return_inverse=True): the labels renumbered 0 … n-1 in sorted order.
  function consecutive(labels) {
    const values = Array.from(new Set(labels)).sort((a, b) => a - b);
    const index = new Map(values.map((value, i) => [value, i]));
    return { labels: labels.map((value) => index.get(value)), count: values.length };
  }

  // ------------------------------------------------------------ slic_from_scratch

  function slic(pixels, width, height, options = {}) {
    const o = Object.assign({}, DEFAULTS, options);
    checkNumber(o.nSegments, "nSegments", 1, { integer: true });
    checkNumber(o.compactness, "compactness", 0, { above: true });
    checkNumber(o.maxIter, "maxIter", 1, { integer: true });
    checkNumber(o.tol, "tol", 0);
    checkNumber(o.minSizeFactor, "minSizeFactor", 0);
    const feats = rgbToLab(pixels, width, height, o.channels); // checks the image
    const N = height * width;
    const { S, centres: start } = grid(height, width, o.nSegments);
    const moved = moveToLowestGradient(start, gradientMagnitude(feats, height, width), height, width);
    const K = moved.length;
    const centres = new Float64Array(5 * K); // per centre: L, a, b, row, col
    moved.forEach(([r, c], k) => centres.set([feats[3 * (r * width + c)], feats[3 * (r * width + c) + 1],
                                              feats[3 * (r * width + c) + 2], r, c], 5 * k));

    const spatialWeight = (o.compactness / S) * (o.compactness / S);
    const window = Math.ceil(S);
    const labels = new Int32Array(N).fill(-1); // -1: not claimed yet
    const distance = new Float64Array(N);
    let iterations = 0;
    while (iterations < o.maxIter) {
      iterations++;
      // Assignment: every centre claims the pixels of its 2S×2S window that it is closest to.
      distance.fill(Infinity);
      for (let k = 0; k < K; k++) {
        const [L, A, B, cr, cc] = centres.subarray(5 * k, 5 * k + 5);
        const r = roundHalfEven(cr), c = roundHalfEven(cc);
        const r0 = Math.max(r - window, 0), r1 = Math.min(r + window + 1, height);
        const c0 = Math.max(c - window, 0), c1 = Math.min(c + window + 1, width);
        for (let y = r0; y < r1; y++) {
          for (let x = c0; x < c1; x++) {
            const p = y * width + x;
            const dL = feats[3 * p] - L, dA = feats[3 * p + 1] - A, dB = feats[3 * p + 2] - B;
            const dC2 = dL * dL + dA * dA + dB * dB;
            const dXY2 = (y - cr) * (y - cr) + (x - cc) * (x - cc);
            const D = Math.sqrt(dC2 + spatialWeight * dXY2);
            if (D < distance[p]) { distance[p] = D; labels[p] = k; }
          }
        }
      }
      // Update: each centre moves to the mean colour and position of its pixels, the sums
      // taken in reading order as np.bincount takes them. (The Python's bincount would stop
      // at a pixel no centre ever claimed; here such a pixel is left out.)
      const sums = new Float64Array(5 * K), counts = new Float64Array(K);
      for (let p = 0; p < N; p++) {
        const k = labels[p];
        if (k < 0) continue;
        const r = Math.floor(p / width);
        counts[k]++;
        sums[5 * k] += feats[3 * p]; sums[5 * k + 1] += feats[3 * p + 1]; sums[5 * k + 2] += feats[3 * p + 2];
        sums[5 * k + 3] += r; sums[5 * k + 4] += p - r * width;
      }
      let residual = 0; // how far the centres moved: max over centres of |Δrow| + |Δcol|
      for (let k = 0; k < K; k++) {
        if (counts[k] === 0) continue;
        const moveR = Math.abs(sums[5 * k + 3] / counts[k] - centres[5 * k + 3]);
        const moveC = Math.abs(sums[5 * k + 4] / counts[k] - centres[5 * k + 4]);
        residual = Math.max(residual, moveR + moveC);
        for (let j = 0; j < 5; j++) centres[5 * k + j] = sums[5 * k + j] / counts[k];
      }
      if (residual < o.tol) break;
    }

    const result = o.enforceConnectivity
      ? enforceConnectivity(labels, height, width, Math.max(1, Math.trunc(o.minSizeFactor * height * width / o.nSegments)))
      : consecutive(labels);
    return { labels: result.labels, count: result.count, iterations };
  }

  const api = { slic, rgbToLab, roundHalfEven };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.CamSlic = api;
})(typeof self !== "undefined" ? self : this);
