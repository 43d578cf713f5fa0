/* Draws the report charts with the vendored Chart.js from the JSON block on the page (CSP: no inline script). */
(function () {
  "use strict";

  var COLOURS = ["#2f5d8a", "#b35c00", "#2e7d32", "#8a2f5d"];

  function datasets(spec) {
    return spec.datasets.map(function (set, index) {
      var colour = COLOURS[index % COLOURS.length];
      return Object.assign({
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: 2,
        spanGaps: true
      }, set);
    });
  }

  function options(spec) {
    var scales = { y: { beginAtZero: true } };
    if (spec.max) { scales.y.max = spec.max; }
    var right = spec.datasets.some(function (set) { return set.yAxisID === "y1"; });
    if (right) { scales.y1 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } }; }
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: true,
      scales: scales,
      plugins: { legend: { display: spec.datasets.length > 1 } }
    };
  }

  function drawAll() {
    var node = document.getElementById("report-data");
    if (!node || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(node.textContent);
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var spec = data[canvas.getAttribute("data-chart")];
      if (!spec) { return; }
      new window.Chart(canvas, { type: spec.type, data: { labels: spec.labels, datasets: datasets(spec) },
                                 options: options(spec) });
      canvas.setAttribute("data-drawn", "true");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
