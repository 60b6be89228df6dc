// vrev report glue: draws the figures built by the plotly crate, shows one trade's stretch of
// one-minute bars on the price chart when a trade is picked (table row, chart mark, overview day),
// draws the series the scripts read on both price charts (a checkbox each hides or shows it),
// and sorts and filters the trade list.
(function () {
  "use strict";
  var json = function (id) { return JSON.parse(document.getElementById(id).textContent); };
  var draw = function (div, fig) { return Plotly.newPlot(div, fig.data, fig.layout, fig.config || {}); };
  ["equity", "heatmap", "histogram", "rolling"].forEach(function (id) {
    var el = document.getElementById("fig-" + id);
    if (el) draw(el, json("fig-" + id + "-json"));
  });
  var D = json("price-data");
  var tick = D.tick, dec = D.decimals;
  var detail = document.getElementById("fig-detail");
  var overview = document.getElementById("fig-overview");
  var label = document.getElementById("detail-label");
  var rows = document.querySelectorAll("#trades tbody tr");
  var iso = function (m) { return new Date(m * 60000).toISOString().slice(0, 16).replace("T", " "); };
  var px = function (t) { return Math.round(t * tick * 1e6) / 1e6; };
  var money = function (v) {
    var s = Math.abs(v).toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (v < 0 && s !== "0.00" ? "-$" : "$") + s;
  };
  var segment = null, current = -1, bars = null;
  // The series the scripts read (overlay.rs): hundredths as differences, null = no value.
  var OV = json("overlay-data");
  OV.series = OV.series || [];
  var ovOn = OV.series.map(function () { return true; });
  var undelta = function (a) {
    var out = new Array(a.length), prev = 0;
    for (var i = 0; i < a.length; i++) {
      if (a[i] === null) { out[i] = null; } else { prev += a[i]; out[i] = Math.round(prev) / 100; }
    }
    return out;
  };
  var has = function (kind) { return OV.series.some(function (s) { return s.kind === kind; }); };
  var hasOsc = has("oscillator"), hasPts = has("points");
  var axisOf = function (kind) { return kind === "price" ? "y" : kind === "oscillator" ? "y2" : hasOsc ? "y3" : "y2"; };
  // Price levels over the candles; a pane below for RSI-like (0-100) and ATR-like (points).
  function panes(layout) {
    if (!hasOsc && !hasPts) return layout;
    var l = Object.assign({}, layout);
    l.yaxis = Object.assign({}, layout.yaxis, { domain: [0.3, 1] });
    l.xaxis = Object.assign({}, layout.xaxis, { anchor: "y2" });
    var lower = { domain: [0, 0.24], zeroline: false, anchor: "x" };
    if (hasOsc) {
      l.yaxis2 = Object.assign({}, lower, { range: [0, 100], autorange: false, tickvals: [0, 30, 50, 70, 100], title: { text: "RSI" } });
      if (hasPts) l.yaxis3 = { overlaying: "y2", side: "right", anchor: "x", showgrid: false, rangemode: "tozero", title: { text: "points" } };
    } else {
      l.yaxis2 = Object.assign({}, lower, { rangemode: "tozero", title: { text: "points" } });
    }
    l.margin = Object.assign({}, layout.margin || {}, { r: hasPts && hasOsc ? 70 : (layout.margin || {}).r });
    l.height = (layout.height || 400) + 160;
    return l;
  }
  function ovTraces(values, x) {
    return OV.series.map(function (s, k) {
      return {
        type: "scatter", mode: "lines", name: s.name, x: x, y: values[k], yaxis: axisOf(s.kind),
        line: { color: s.color, width: 1.6 }, connectgaps: false, showlegend: false,
        hovertemplate: s.name + ": %{y:.2f}<extra></extra>", visible: ovOn[k]
      };
    });
  }
  var segValues = {};
  function ovSegment(k) {
    if (!(k in segValues)) segValues[k] = (OV.segments[k] || []).map(undelta);
    return segValues[k];
  }
  function decode(k) {
    var s = D.segments[k], t = s[0], pc = s[1], a = s[2];
    var b = { m: [], x: [], o: [], h: [], l: [], c: [] };
    for (var i = 0; i < a.length; i += 5) {
      t += a[i];
      var o = pc + a[i + 1], c = o + a[i + 4];
      b.m.push(t); b.x.push(iso(t));
      b.o.push(px(o)); b.h.push(px(o + a[i + 2])); b.l.push(px(o - a[i + 3])); b.c.push(px(c));
      pc = c;
    }
    return b;
  }
  function tradeText(i) {
    var t = D.trades[i];
    var moves = (t[12] || []).map(function (m) { return " → " + m[1] + " (" + m[2] + ")"; }).join("");
    return "#" + (i + 1) + " " + t[9] + "<br>" + (t[1] > 0 ? "BUY" : "SELL") +
      " entry " + (t[4] || "—") + " · stop " + t[6] + moves + " · target " + t[7] +
      "<br>exit " + (t[5] || "—") + " (" + t[10] + ") · net " + money(t[8]);
  }
  function traces(k) {
    var be = { x: [], y: [], text: [], customdata: [] }, se = { x: [], y: [], text: [], customdata: [] };
    var ex = { x: [], y: [], text: [], customdata: [] }, st = { x: [], y: [] }, tg = { x: [], y: [] };
    D.trades.forEach(function (t, i) {
      if (t[0] !== k || t[2] === null) return;
      var e = t[1] > 0 ? be : se, txt = tradeText(i);
      e.x.push(iso(t[2])); e.y.push(+t[4]); e.text.push(txt); e.customdata.push(i);
      if (t[3] !== null) {
        ex.x.push(iso(t[3])); ex.y.push(+t[5]); ex.text.push(txt); ex.customdata.push(i);
        // The stop as it was in force: a step at each move (breakeven, trail).
        var level = +t[6];
        st.x.push(iso(t[2])); st.y.push(level);
        (t[12] || []).forEach(function (m) {
          if (m[0] > t[3]) return;
          st.x.push(iso(m[0]), iso(m[0])); st.y.push(level, +m[1]); level = +m[1];
        });
        st.x.push(iso(t[3]), null); st.y.push(level, null);
        tg.x.push(iso(t[2]), iso(t[3]), null); tg.y.push(+t[7], +t[7], null);
      }
    });
    return [be, se, ex, st, tg];
  }
  function fitY(x0, x1) {
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < bars.m.length; i++) {
      if (bars.m[i] < x0 || bars.m[i] > x1) continue;
      lo = Math.min(lo, bars.l[i]); hi = Math.max(hi, bars.h[i]);
    }
    D.trades.forEach(function (t) {
      if (t[0] !== segment || t[2] === null || t[3] === null || t[3] < x0 || t[2] > x1) return;
      lo = Math.min(lo, +t[6], +t[7]); hi = Math.max(hi, +t[6], +t[7]);
      (t[12] || []).forEach(function (m) { lo = Math.min(lo, +m[1]); hi = Math.max(hi, +m[1]); });
    });
    if (!isFinite(lo)) return null;
    // Visible price levels the scripts read, as far as one more height of the candles each way.
    var olo = lo, ohi = hi, span = hi - lo, vals = ovSegment(segment);
    OV.series.forEach(function (s, k) {
      if (s.kind !== "price" || !ovOn[k] || !vals[k]) return;
      for (var i = 0; i < bars.m.length; i++) {
        var v = vals[k][i];
        if (v === null || bars.m[i] < x0 || bars.m[i] > x1) continue;
        olo = Math.min(olo, v); ohi = Math.max(ohi, v);
      }
    });
    lo = Math.max(olo, lo - span); hi = Math.min(ohi, hi + span);
    var pad = Math.max((hi - lo) * 0.06, tick * 2);
    return [lo - pad, hi + pad];
  }
  var fitting = false;
  var FD = json("fig-detail-json");
  function render(i) {
    var t = D.trades[i];
    var d = FD.data.map(function (tr) { return Object.assign({}, tr); });
    var tr = traces(segment);
    Object.assign(d[0], { x: bars.x, open: bars.o, high: bars.h, low: bars.l, close: bars.c });
    Object.assign(d[1], tr[0]); Object.assign(d[2], tr[1]); Object.assign(d[3], tr[2]);
    Object.assign(d[4], tr[3]); Object.assign(d[5], tr[4]);
    Object.assign(d[6], t[2] !== null && t[3] !== null
      ? { x: [iso(t[2]), iso(t[3])], y: [+t[4], +t[5]] } : { x: [], y: [] });
    d = d.concat(ovTraces(ovSegment(segment), bars.x));
    var x0 = t[11] - 20, x1 = (t[3] !== null ? t[3] : t[11]) + 20;
    var layout = panes(Object.assign({}, FD.layout));
    layout.xaxis = Object.assign({}, layout.xaxis, { range: [iso(x0), iso(x1)], autorange: false });
    layout.yaxis = Object.assign({}, layout.yaxis);
    var y = fitY(x0, x1);
    if (y) { layout.yaxis.range = y; layout.yaxis.autorange = false; }
    fitting = true;
    return Plotly.react(detail, d, layout, FD.config || {}).then(function () { fitting = false; });
  }
  function show(i, scroll) {
    if (i < 0 || i >= D.trades.length) return;
    var t = D.trades[i];
    if (t[0] !== segment) { segment = t[0]; bars = decode(segment); }
    current = i;
    render(i);
    label.textContent = "Trade " + (i + 1) + " of " + D.trades.length + ": " + t[9] + " · " +
      (t[1] > 0 ? "BUY" : "SELL") + " · " + t[10] + " · net " + money(t[8]) +
      "  (drag to pan, scroll to zoom, double-click to reset)";
    var old = document.querySelector("#trades tr.sel");
    if (old) old.classList.remove("sel");
    if (rows[i]) {
      rows[i].classList.add("sel");
      var box = document.getElementById("trades-box");
      var r = rows[i];
      if (r.offsetTop < box.scrollTop || r.offsetTop > box.scrollTop + box.clientHeight - 40) {
        box.scrollTop = r.offsetTop - 60;
      }
    }
    if (scroll) detail.scrollIntoView({ behavior: "auto", block: "start" });
  }
  var FO = json("fig-overview-json"), ovBase = FO.data.length;
  FO.data = FO.data.concat(ovTraces((OV.daily || []).map(undelta), FO.data[0].x));
  FO.layout = panes(FO.layout);
  var overviewDrawn = draw(overview, FO).then(function () {
    overview.on("plotly_click", function (ev) {
      var pt = ev.points && ev.points[0];
      if (!pt) return;
      if (pt.customdata !== undefined && pt.customdata !== null) { show(+pt.customdata, true); return; }
      var day = String(pt.x).slice(0, 10);
      if (day in D.days) show(D.days[day], true);
    });
  });
  // The legend's checkboxes: a series hidden or shown on both charts.
  Array.prototype.forEach.call(document.querySelectorAll("#overlay-legend input[data-ov]"), function (box) {
    box.addEventListener("change", function () {
      var k = +box.getAttribute("data-ov");
      ovOn[k] = box.checked;
      box.parentNode.classList.toggle("off", !box.checked);
      Plotly.restyle(overview, { visible: box.checked }, [ovBase + k]);
      if (current >= 0) render(current);
    });
  });
  var detailDrawn = draw(detail, json("fig-detail-json")).then(function () {
    detail.on("plotly_click", function (ev) {
      var pt = ev.points && ev.points[0];
      if (pt && pt.customdata !== undefined) show(pt.customdata, false);
    });
    detail.on("plotly_relayout", function (ev) {
      if (fitting || !bars) return;
      var a = ev["xaxis.range[0]"], b = ev["xaxis.range[1]"];
      if (a === undefined && ev["xaxis.range"]) { a = ev["xaxis.range"][0]; b = ev["xaxis.range"][1]; }
      if (a === undefined) return;
      var m = function (s) { return Date.parse(String(s).replace(" ", "T") + "Z") / 60000; };
      var y = fitY(m(a), m(b));
      if (y) { fitting = true; Plotly.relayout(detail, { "yaxis.range": y }).then(function () { fitting = false; }); }
    });
    var m = /^#trade-(\d+)$/.exec(location.hash);
    if (m && +m[1] >= 1 && +m[1] <= D.trades.length) show(+m[1] - 1, true);
    else if (D.trades.length) show(0, false);
    else label.textContent = "No trades: nothing to draw.";
  });
  Promise.all([overviewDrawn, detailDrawn]).then(function () {
    document.body.setAttribute("data-ready", "1");
  });
  window.addEventListener("hashchange", function () {
    var m = /^#trade-(\d+)$/.exec(location.hash);
    if (m) show(+m[1] - 1, true);
  });
  document.getElementById("trades").addEventListener("click", function (ev) {
    if (ev.target.closest("a")) return; // the link changes the hash: "hashchange" shows it
    var tr = ev.target.closest("tr[data-i]");
    if (tr) show(+tr.getAttribute("data-i"), true);
  });
  document.getElementById("prev-trade").addEventListener("click", function () { show(current - 1, false); });
  document.getElementById("next-trade").addEventListener("click", function () { show(current + 1, false); });
  window.vrevShowTrade = show;

  // The trade list: sort by a column (click its head again to reverse), filter under the heads.
  var table = document.getElementById("trades");
  var tbody = table.tBodies[0];
  var all = Array.prototype.slice.call(tbody.rows);
  var heads = table.querySelectorAll("th.sort");
  var sorted = { col: -1, dir: 1 };
  var valueOf = function (tr, k, type) {
    var td = tr.cells[k], v = td.getAttribute("data-v");
    if (type === "n") return v === null || v === "" ? NaN : +v;
    return (v !== null ? v : td.textContent).toLowerCase();
  };
  Array.prototype.forEach.call(heads, function (th) {
    th.addEventListener("click", function () {
      var k = +th.getAttribute("data-col"), type = th.getAttribute("data-type");
      sorted.dir = sorted.col === k ? -sorted.dir : 1;
      sorted.col = k;
      var keyed = all.map(function (tr, i) { return [valueOf(tr, k, type), i, tr]; });
      keyed.sort(function (a, b) {
        var x = a[0], y = b[0];
        if (type === "n") {
          // Cells without a number last, whatever the direction.
          if (isNaN(x) || isNaN(y)) return isNaN(x) === isNaN(y) ? a[1] - b[1] : isNaN(x) ? 1 : -1;
        }
        return (x < y ? -1 : x > y ? 1 : 0) * sorted.dir || a[1] - b[1];
      });
      keyed.forEach(function (e) { tbody.appendChild(e[2]); });
      Array.prototype.forEach.call(heads, function (h) {
        h.querySelector(".arrow").textContent = h === th ? (sorted.dir > 0 ? " ▲" : " ▼") : "";
        h.setAttribute("aria-sort", h === th ? (sorted.dir > 0 ? "ascending" : "descending") : "none");
      });
    });
  });
  var filters = table.querySelectorAll("[data-filter]");
  var shown = document.getElementById("trades-shown");
  // A filter's test of one cell: a choice matches exactly; numbers take >x, >=x, <x, <=x, =x
  // and a..b; anything else is text the cell must contain.
  function test(f) {
    var q = f.value.trim(), k = +f.getAttribute("data-filter");
    var type = heads[k].getAttribute("data-type");
    if (q === "") return null;
    if (f.tagName === "SELECT") return function (tr) { return tr.cells[k].textContent === q; };
    var n = type === "n" && /^(>=|<=|>|<|=)\s*(-?[\d.]+)$/.exec(q.replace(/[$,\s]/g, ""));
    if (n) {
      var x = +n[2], op = n[1];
      return function (tr) {
        var v = valueOf(tr, k, "n");
        return !isNaN(v) && (op === ">" ? v > x : op === "<" ? v < x : op === ">=" ? v >= x : op === "<=" ? v <= x : v === x);
      };
    }
    var r = type === "n" && /^(-?[\d.]+)\.\.(-?[\d.]+)$/.exec(q.replace(/[$,\s]/g, ""));
    if (r) {
      var a = +r[1], b = +r[2];
      return function (tr) { var v = valueOf(tr, k, "n"); return v >= a && v <= b; };
    }
    var text = q.toLowerCase();
    return function (tr) { return tr.cells[k].textContent.toLowerCase().indexOf(text) >= 0; };
  }
  function applyFilters() {
    var tests = Array.prototype.map.call(filters, test).filter(function (t) { return t; });
    var n = 0;
    all.forEach(function (tr) {
      var ok = tests.every(function (t) { return t(tr); });
      tr.classList.toggle("hidden", !ok);
      n += ok ? 1 : 0;
    });
    shown.textContent = tests.length ? "Showing " + n + " of " + all.length + " trades." : "";
  }
  Array.prototype.forEach.call(filters, function (f) {
    f.addEventListener(f.tagName === "SELECT" ? "change" : "input", applyFilters);
  });
})();
