// Runs book/_static/cam-slic.js in Node.js for tests/unit/test_slic_js.py.
//
// stdin: a JSON list of jobs, each {op, width, height, channels, options, pixels (base64 bytes)}
// with op "slic" (CamSlic.slic), "lab" (CamSlic.rgbToLab) or "time" (CamSlic.slic `runs` times).
// stdout: a JSON list of answers, in the same order: {labels (base64 int32, little-endian),
// count, iterations}, {lab (base64 float64)}, {ms: [...]}, or {error: message} if it threw.
"use strict";

const path = require("path");
const { performance } = require("perf_hooks");
const CamSlic = require(path.join(__dirname, "..", "..", "book", "_static", "cam-slic.js"));

const base64 = (typed) => Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength).toString("base64");

function run(job) {
  const pixels = new Uint8Array(Buffer.from(job.pixels, "base64"));
  const options = Object.assign({ channels: job.channels }, job.options || {});
  if (job.op === "lab") return { lab: base64(CamSlic.rgbToLab(pixels, job.width, job.height, job.channels)) };
  if (job.op === "time") {
    const ms = [];
    for (let i = 0; i < job.runs; i++) {
      const started = performance.now();
      CamSlic.slic(pixels, job.width, job.height, options);
      ms.push(performance.now() - started);
    }
    return { ms };
  }
  const { labels, count, iterations } = CamSlic.slic(pixels, job.width, job.height, options);
  return { labels: base64(labels), count, iterations };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const answers = JSON.parse(input).map((job) => {
    try {
      return run(job);
    } catch (error) {
      return { error: String(error && error.message), name: error && error.name };
    }
  });
  process.stdout.write(JSON.stringify(answers));
});
