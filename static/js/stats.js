/* The statistics pages, enhanced: each chart is drawn (Chart.js) from the data table that
   follows it, the hotspots are drawn on the map from their table, and the monthly summary has
   a print button. Without script the tables say everything. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var COLOURS = ["#0b5cad", "#2b8a3e", "#d9480f", "#7048e8", "#e67700", "#1098ad"];

  function cellValue(cell) {
    if (!cell) { return null; }
    var raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent;
    var value = parseFloat(String(raw).replace(/[^0-9.eE+-]/g, ""));
    return isNaN(value) ? null : value;
  }

  /* Labels (first cell of each body row) and one dataset per chosen column. */
  function tableData(table, columns) {
    var heads = table.querySelectorAll("thead th");
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"))
      .filter(function (row) { return row.cells.length > 1; });
    return {
      labels: rows.map(function (row) { return row.cells[0].textContent.trim(); }),
      datasets: columns.map(function (column, index) {
        return {
          label: heads[column] ? heads[column].textContent.trim() : "",
          data: rows.map(function (row) { return cellValue(row.cells[column]); }),
          backgroundColor: COLOURS[index % COLOURS.length],
          borderColor: COLOURS[index % COLOURS.length],
          tension: 0.2
        };
      })
    };
  }

  function drawChart(figure) {
    var table = document.getElementById(figure.dataset.table);
    if (!table || !window.Chart) { return; }
    var columns = figure.dataset.columns.split(",").map(Number);
    var horizontal = figure.dataset.horizontal === "1";
    new window.Chart(figure.querySelector("canvas"), {
      type: figure.dataset.chart,
      data: tableData(table, columns),
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        scales: { x: { beginAtZero: true }, y: { beginAtZero: true } },
        plugins: { legend: { display: columns.length > 1 } }
      }
    });
  }

  function drawHotspots(element) {
    if (!window.L || !window.TellCityMap) { return; }
    var table = document.getElementById(element.dataset.hotspots);
    var map = window.TellCityMap(element);
    var rows = table ? table.querySelectorAll("tbody tr[data-count]") : [];
    var most = 1;
    rows.forEach(function (row) { most = Math.max(most, +row.dataset.count); });
    var layer = L.featureGroup().addTo(map);
    rows.forEach(function (row, index) {
      var d = row.dataset;
      L.rectangle([[+d.south, +d.west], [+d.north, +d.east]], {
        color: "#c92a2a", weight: 2, fillColor: "#d9480f", fillOpacity: 0.25 + 0.6 * (+d.count / most)
      }).bindTooltip("#" + (index + 1) + ": " + d.count).addTo(layer);
    });
    if (rows.length) { map.fitBounds(layer.getBounds(), { padding: [40, 40], maxZoom: 16 }); }
  }

  document.querySelectorAll("figure[data-chart]").forEach(drawChart);
  document.querySelectorAll(".map[data-hotspots]").forEach(drawHotspots);
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
