// The dashboard's charts: each drawn by Chart.js from the table printed beside it (the table is
// the chart's accessible form and holds every number; nothing else is sent to the page).
(function () {
  "use strict";
  var COLOURS = ["#1f6feb", "#d1242f", "#2da44e", "#bf8700", "#8250df", "#57606a"];

  function read(table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells, 1);
    var labels = [];
    var series = heads.map(function (cell) { return { label: cell.textContent.trim(), data: [] }; });
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      labels.push(row.cells[0].textContent.trim());
      for (var i = 1; i < row.cells.length; i++) {
        series[i - 1].data.push(Number(row.cells[i].getAttribute("data-value")));
      }
    });
    return { labels: labels, series: series };
  }

  function draw(table) {
    var canvas = document.getElementById("canvas-" + table.getAttribute("data-chart"));
    if (!canvas || typeof window.Chart === "undefined") { return; }
    var kind = table.getAttribute("data-kind");
    var found = read(table);
    var money = table.getAttribute("data-money") === "true";
    var format = new Intl.NumberFormat(document.documentElement.lang || undefined,
      money ? { minimumFractionDigits: 2, maximumFractionDigits: 2 } : {});
    var datasets = found.series.map(function (series, index) {
      var colour = kind === "doughnut" ? COLOURS : COLOURS[index % COLOURS.length];
      return { label: series.label, data: series.data, backgroundColor: colour, borderColor: colour };
    });
    new window.Chart(canvas, {
      type: kind,
      data: { labels: found.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: kind === "doughnut" || datasets.length > 1 },
          tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + format.format(item.raw); } } }
        },
        scales: kind === "doughnut" ? {} : { y: { beginAtZero: true, ticks: { callback: function (v) { return format.format(v); } } } }
      }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.chart-table"), draw);
  });
})();
