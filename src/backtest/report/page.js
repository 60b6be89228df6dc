// vrev report glue: draws the figures built by the plotly crate, and shows one trade's stretch of
// one-minute bars on the price chart when a trade is picked (table row, chart mark, overview day).
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
    var x0 = t[11] - 20, x1 = (t[3] !== null ? t[3] : t[11]) + 20;
    var layout = Object.assign({}, FD.layout);
    layout.xaxis = Object.assign({}, FD.layout.xaxis, { range: [iso(x0), iso(x1)], autorange: false });
    layout.yaxis = Object.assign({}, FD.layout.yaxis);
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
  draw(overview, json("fig-overview-json")).then(function () {
    overview.on("plotly_click", function (ev) {
      var pt = ev.points && ev.points[0];
      if (!pt) return;
      var day = String(pt.x).slice(0, 10);
      if (day in D.days) show(D.days[day], true);
    });
  });
  draw(detail, json("fig-detail-json")).then(function () {
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
})();
