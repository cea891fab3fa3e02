// strata's pages work without this file; it adds what needs a script: the theme switch,
// column highlighting in the lineage diagram, picking a heatmap range, and live updates
// from the server's event stream.
(function () {
  "use strict";
  var root = document.documentElement;
  try {
    var saved = localStorage.getItem("strata-theme");
    if (saved) root.setAttribute("data-theme", saved);
  } catch (e) {}

  function ready(f) {
    if (document.readyState !== "loading") f();
    else document.addEventListener("DOMContentLoaded", f);
  }

  ready(function () {
    var t = document.querySelector("[data-theme-toggle]");
    if (t) t.addEventListener("click", function () {
      var dark = root.getAttribute("data-theme") === "dark" ||
        (!root.getAttribute("data-theme") && matchMedia("(prefers-color-scheme: dark)").matches);
      var next = dark ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem("strata-theme", next); } catch (e) {}
    });
    columns();
    heatmap();
    live();
  });

  // Clicking a column lights it and every column it comes from and feeds, through the
  // diagram's column edges (data-edge="FROM->TO"), without a reload.
  function columns() {
    var svg = document.querySelector("svg.lineage");
    if (!svg) return;
    var up = {}, down = {};
    svg.querySelectorAll("path.cedge").forEach(function (p) {
      var e = p.getAttribute("data-edge").split("->");
      (up[e[1]] = up[e[1]] || []).push(e[0]);
      (down[e[0]] = down[e[0]] || []).push(e[1]);
    });
    function reach(start, next) {
      var seen = {}, stack = [start];
      seen[start] = true;
      while (stack.length) {
        var c = stack.pop();
        (next[c] || []).forEach(function (n) {
          if (!seen[n]) { seen[n] = true; stack.push(n); }
        });
      }
      return seen;
    }
    function light(col) {
      var ups = col ? reach(col, up) : {}, downs = col ? reach(col, down) : {};
      svg.classList.toggle("has-lit", !!col);
      svg.querySelectorAll("[data-column]").forEach(function (el) {
        var k = el.getAttribute("data-column");
        el.classList.toggle("lit", !!(ups[k] || downs[k]));
      });
      svg.querySelectorAll("path.cedge").forEach(function (p) {
        var e = p.getAttribute("data-edge").split("->");
        p.classList.toggle("lit", !!((ups[e[0]] && ups[e[1]]) || (downs[e[0]] && downs[e[1]])));
      });
      svg.setAttribute("data-column-focus", col || "");
    }
    svg.addEventListener("click", function (ev) {
      var a = ev.target.closest("[data-column]");
      if (!a) return;
      ev.preventDefault();
      var col = a.getAttribute("data-column");
      if (svg.getAttribute("data-column-focus") === col) col = "";
      light(col);
      var u = new URL(location.href);
      if (col) u.searchParams.set("col", col); else u.searchParams.delete("col");
      history.replaceState(null, "", u);
    });
  }

  // A click on a heatmap cell sets the range's start; a shift-click its end.
  function heatmap() {
    var from = document.querySelector("[data-range-from]"), to = document.querySelector("[data-range-to]");
    if (!from || !to) return;
    function pick(cell, end) {
      var day = cell.getAttribute("data-start");
      if (end) to.value = day; else { from.value = day; if (!to.value || to.value < day) to.value = day; }
      document.querySelectorAll(".cell.sel").forEach(function (c) { c.classList.remove("sel"); });
      document.querySelectorAll(".cell[data-start]").forEach(function (c) {
        var d = c.getAttribute("data-start");
        if (d >= from.value && d <= to.value) c.classList.add("sel");
      });
    }
    document.querySelectorAll(".cell[data-start]").forEach(function (c) {
      c.addEventListener("click", function (ev) { pick(c, ev.shiftKey); });
      c.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pick(c, ev.shiftKey); }
      });
    });
  }

  // An element with data-live is refetched from its URL whenever the server's event
  // stream says something changed.
  function live() {
    var el = document.querySelector("[data-live]");
    if (!el || !window.EventSource) return;
    var busy = false, again = false;
    function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      fetch(el.getAttribute("data-live"), { headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null) el.innerHTML = html;
        })
        .catch(function () {})
        .finally(function () {
          busy = false;
          if (again) { again = false; refresh(); }
        });
    }
    var es = new EventSource("/events?since=" + (document.body.getAttribute("data-version") || "0"));
    es.addEventListener("change", refresh);
  }
})();
