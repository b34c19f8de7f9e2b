/* The interactive HTML report: live charts, one segment in focus across the page, and the customer explorer.
   Progressive enhancement: without JavaScript the static SVG charts stay and the controls stay hidden. When every
   chart is live and the explorer is filled, <html> gets data-ready="true" and data-ready-ms (time since the page
   started loading). */
(function () {
  "use strict";

  var root = document.documentElement;
  var payload = JSON.parse(document.getElementById("report-data").textContent);
  var data = payload.explorer;
  var segmentNames = data.segments.map(function (s) { return s.name; });
  var focus = null; // segment id in focus, or null
  var focusViews = []; // live charts that have the "focus" parameter
  var explorer = null;

  function focusName() {
    return focus === null ? null : segmentNames[focus];
  }

  function setFocus(value) {
    var id = value === null || value === undefined || value === "" ? null : Number(value);
    focus = id === null || Number.isNaN(id) || id < 0 || id >= segmentNames.length ? null : id;
    document.querySelectorAll("select.segment-select").forEach(function (select) {
      select.value = focus === null ? "" : String(focus);
    });
    focusViews.forEach(function (view) {
      view.signal("focus", focusName()).runAsync();
    });
    root.dataset.focus = focus === null ? "" : String(focus);
    if (explorer) explorer.refilter();
  }

  /* ---- Live charts ---------------------------------------------------------------------------------------- */

  // The segment a clicked chart item stands for: a mark of a segment, a legend entry, a cell of the migration grid.
  function clickedSegment(item) {
    var datum = item && item.datum;
    if (!datum) return null;
    var candidates = [datum.segment, datum.new, datum.value];
    for (var i = 0; i < candidates.length; i += 1) {
      var index = segmentNames.indexOf(candidates[i]);
      if (index >= 0) return index;
    }
    return null;
  }

  function onChartClick(event, item) {
    var id = clickedSegment(item);
    if (id !== null) setFocus(id === focus ? null : id);
  }

  // Legends of segment colours become clickable, and their entries follow the focus like the marks do.
  function segmentLegends(vega, hasFocus) {
    var scales = {};
    (vega.scales || []).forEach(function (scale) { scales[scale.name] = scale; });
    (vega.legends || []).forEach(function (legend) {
      var scale = scales[legend.fill || legend.stroke];
      var domain = scale && Array.isArray(scale.domain) ? scale.domain : [];
      if (!domain.length || !domain.every(function (v) { return segmentNames.indexOf(v) >= 0; })) return;
      legend.encode = legend.encode || {};
      ["symbols", "labels"].forEach(function (part) {
        var encode = legend.encode[part] = legend.encode[part] || {};
        var update = encode.update = encode.update || {};
        var base = update.opacity && typeof update.opacity.value === "number" ? update.opacity.value : 1;
        encode.interactive = true;
        update.cursor = {value: "pointer"};
        if (hasFocus) {
          update.opacity = {signal: "focus === null || datum.value === focus ? " + base + " : " + (0.25 * base)};
        }
      });
    });
    return vega;
  }

  function embed(figure) {
    var name = figure.getAttribute("data-chart");
    var spec = payload.charts[name];
    var body = figure.querySelector(".chart-body");
    if (!spec || !body) return Promise.resolve();
    var holder = document.createElement("div");
    holder.className = "chart-live";
    holder.hidden = true;
    var target = document.createElement("div");
    holder.appendChild(target);
    body.appendChild(holder);
    var hasFocus = (spec.params || []).some(function (p) { return p.name === "focus"; });
    var options = {mode: "vega-lite", renderer: "svg", actions: false, tooltip: {theme: "light"},
      patch: function (vega) { return segmentLegends(vega, hasFocus); }};
    return window.vegaEmbed(target, spec, options).then(function (result) {
      Array.prototype.forEach.call(body.querySelectorAll(":scope > svg"), function (svg) { svg.remove(); });
      holder.hidden = false;
      figure.classList.add("is-live");
      var view = result.view;
      if (hasFocus) {
        focusViews.push(view);
        if (focus !== null) view.signal("focus", focusName()).runAsync();
      }
      view.addEventListener("click", onChartClick);
    }).catch(function (error) {
      holder.remove();
      console.error("reportgen: chart '" + name + "' could not be drawn live; the static chart stays.", error);
    });
  }

  function embedCharts() {
    if (typeof window.vegaEmbed !== "function") return Promise.resolve();
    var figures = Array.prototype.slice.call(document.querySelectorAll("figure.chart[data-chart]"));
    return Promise.all(figures.map(embed));
  }

  /* ---- Customer explorer ---------------------------------------------------------------------------------- */

  var PAGE_SIZE = 50;
  var TRIGGERS = "=+-@\t\r";
  var NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$|^\s*[+-]?(?:inf|infinity|nan)\s*$/i;
  var numberFormat = new Intl.NumberFormat("en-US", {maximumFractionDigits: 2});
  var collator = new Intl.Collator("en", {numeric: true, sensitivity: "base"});

  function display(value, column) {
    if (value === null || value === undefined) return "\u2013";
    // Negative numbers get the report's minus sign (U+2212), as in the rest of the report.
    return typeof value === "number" && column > 1 ? numberFormat.format(value).replace("-", "\u2212") : String(value);
  }

  // Same rules as segments.csv (reportgen/render/csvout.py safe_cell): numbers as written, text a spreadsheet
  // would run as a formula gets a leading apostrophe (OWASP CSV-injection guidance).
  function safeCell(value) {
    if (typeof value === "number") {
      if (!Number.isFinite(value)) return "";
      if (Number.isInteger(value)) return String(value);
      return value.toFixed(6).replace(/0+$/, "").replace(/\.$/, "");
    }
    var text = value === null || value === undefined ? "" : String(value);
    if (text && TRIGGERS.indexOf(text.charAt(0)) >= 0 && !NUMBER.test(text)) return "'" + text;
    return text;
  }

  function csvField(value) {
    var text = safeCell(value);
    return /[",\r\n]/.test(text) ? "\"" + text.replace(/"/g, "\"\"") + "\"" : text;
  }

  function compare(a, b) {
    if (a === b) return 0;
    if (a === null || a === undefined) return 1; // missing values sort last either way
    if (b === null || b === undefined) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return collator.compare(String(a), String(b));
  }

  function createExplorer(app) {
    var table = document.getElementById("explorer-table");
    var tbody = table.tBodies[0];
    var status = document.getElementById("explorer-status");
    var search = document.getElementById("explorer-search");
    var pageLabel = document.getElementById("explorer-page");
    var prev = document.getElementById("explorer-prev");
    var next = document.getElementById("explorer-next");
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var numeric = headers.map(function (th) { return th.classList.contains("num"); });
    var rows = data.ids.map(function (id, i) {
      var seg = data.segment[i];
      var cells = [id, seg, segmentNames[seg]];
      data.values.forEach(function (column) { cells.push(column[i]); });
      cells.push(data.distance[i]);
      return {cells: cells, text: cells.map(display).join("\u0001").toLowerCase()};
    });
    var state = {query: "", column: null, direction: 1, page: 0};
    var view = rows;

    function refilter() {
      var query = state.query;
      view = rows.filter(function (row) {
        return (focus === null || row.cells[1] === focus) && (!query || row.text.indexOf(query) >= 0);
      });
      if (state.column !== null) {
        var c = state.column, d = state.direction;
        view.sort(function (a, b) {
          var order = compare(a.cells[c], b.cells[c]);
          var missing = a.cells[c] === null || b.cells[c] === null;
          return missing ? order : d * order;
        });
      }
      state.page = 0;
      render();
    }

    function render() {
      var pages = Math.max(1, Math.ceil(view.length / PAGE_SIZE));
      state.page = Math.min(state.page, pages - 1);
      var start = state.page * PAGE_SIZE;
      var fragment = document.createDocumentFragment();
      view.slice(start, start + PAGE_SIZE).forEach(function (row) {
        var tr = document.createElement("tr");
        row.cells.forEach(function (value, c) {
          var td = document.createElement("td");
          if (numeric[c]) td.className = "num";
          if (c === 2) {
            var swatch = document.createElement("span");
            swatch.className = "swatch";
            swatch.style.backgroundColor = data.segments[row.cells[1]].color;
            td.appendChild(swatch);
          }
          td.appendChild(document.createTextNode(display(value, c)));
          tr.appendChild(td);
        });
        fragment.appendChild(tr);
      });
      tbody.replaceChildren(fragment);
      var shown = view.length ? (start + 1).toLocaleString("en-US") + "\u2013" +
        Math.min(start + PAGE_SIZE, view.length).toLocaleString("en-US") + " of " : "";
      var scope = focus === null ? "" : " in " + segmentNames[focus];
      var filtered = state.query ? " matching \u201c" + state.query + "\u201d" : "";
      status.textContent = view.length ? "Showing " + shown + view.length.toLocaleString("en-US") + " customers" +
        scope + filtered + "." : "No customer" + scope + filtered + ".";
      status.dataset.count = String(view.length);
      pageLabel.textContent = "Page " + (state.page + 1) + " of " + pages;
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
    }

    function sortBy(column) {
      state.direction = state.column === column ? -state.direction : 1;
      state.column = column;
      headers.forEach(function (th, c) {
        th.setAttribute("aria-sort", c !== column ? "none" : state.direction > 0 ? "ascending" : "descending");
      });
      refilter();
    }

    function exportCsv() {
      var header = [data.idName, "segment_id", "segment_name"].concat(data.features, ["distance_to_centroid"]);
      var lines = [header.map(csvField).join(",")];
      view.forEach(function (row) { lines.push(row.cells.map(csvField).join(",")); });
      var blob = new Blob([lines.join("\n") + "\n"], {type: "text/csv;charset=utf-8"});
      var url = URL.createObjectURL(blob);
      var link = document.createElement("a");
      var slug = focus === null ? "" : "-" + segmentNames[focus].toLowerCase().replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "");
      link.href = url;
      link.download = "customers" + slug + (state.query ? "-search" : "") + ".csv";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    }

    headers.forEach(function (th, c) {
      th.querySelector("button").addEventListener("click", function () { sortBy(c); });
    });
    search.addEventListener("input", function () {
      state.query = search.value.trim().toLowerCase();
      refilter();
    });
    prev.addEventListener("click", function () { state.page -= 1; render(); });
    next.addEventListener("click", function () { state.page += 1; render(); });
    document.getElementById("explorer-export").addEventListener("click", exportCsv);
    app.dataset.rows = String(rows.length);
    return {refilter: refilter};
  }

  /* ---- Start ---------------------------------------------------------------------------------------------- */

  document.querySelectorAll("select.segment-select").forEach(function (select) {
    select.addEventListener("change", function () { setFocus(select.value); });
  });
  var app = document.querySelector(".explorer-app");
  if (app) {
    explorer = createExplorer(app);
    explorer.refilter();
  }
  embedCharts().then(function () {
    root.dataset.readyMs = String(Math.round(performance.now()));
    root.dataset.ready = "true";
  });
}());
