/*
 * Lets the Jupyter widgets' HTML manager (embed-amd.js, which renders the widget
 * state saved in a page) work from the site's own copy and with MathJax 3.
 * Loaded after require.js and before embed-amd.js (nb_ipywidgets_js in _config.yml).
 *
 * 1. The manager finds its fonts through the RequireJS module path of
 *    "@jupyter-widgets/html-manager/dist", which RequireJS would resolve next to
 *    the page (notebooks/@jupyter-widgets/...: 404). Point it at _static/vendor.
 * 2. The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue; the
 *    book loads MathJax 3, which has no Hub ("Cannot read properties of undefined
 *    (reading 'Queue')"). Provide Hub.Queue on top of MathJax 3's typesetPromise.
 */
(function () {
  "use strict";

  var root = document.documentElement.getAttribute("data-content_root") || "./";
  if (window.require && typeof window.require.config === "function") {
    var dist = new URL(root + "_static/vendor/html-manager/", document.baseURI).href;
    window.require.config({ paths: { "@jupyter-widgets/html-manager/dist": dist.replace(/\/$/, "") } });
  }

  var hub = {
    Queue: function (command) {
      var element = command && command[2];
      var mathjax = window.MathJax;
      if (!mathjax || !mathjax.startup || !mathjax.startup.promise) {
        return; // MathJax 3 typesets the whole page, labels included, when it starts.
      }
      mathjax.startup.promise
        .then(function () { return mathjax.typesetPromise(element ? [element] : undefined); })
        .catch(function (err) { console.warn("MathJax could not typeset a widget label:", err); });
    },
  };

  function addHub(value) {
    if (value && typeof value === "object" && !value.Hub) {
      // Not enumerable: MathJax 3 reads the keys of window.MathJax as its configuration.
      Object.defineProperty(value, "Hub", { value: hub, enumerable: false, configurable: true });
    }
  }

  // MathJax 3 replaces window.MathJax (the configuration) by itself when it loads.
  var current = window.MathJax;
  addHub(current);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { addHub(value); current = value; },
  });
})();
