#include "src/report/page_assets.hpp"

namespace vmeval::report {

const char* gallery_css() {
    return R"css(
:root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f6f7f9; --card: #fff;
        --done: #16794a; --done-bg: #e3f4ea; --failed: #b42318; --failed-bg: #fde8e6;
        --skipped: #667085; --skipped-bg: #eef0f3; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; color: var(--fg); background: var(--bg);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header.top { padding: 18px 28px 8px; }
h1 { margin: 0; font-size: 22px; }
.sub { margin: 4px 0 0; color: var(--muted); }
.sub code { font-size: 13px; }
.bar { display: flex; flex-wrap: wrap; gap: 18px 28px; align-items: flex-start;
    padding: 10px 28px 16px; }
table.summary { border-collapse: collapse; background: var(--card); border: 1px solid var(--line);
                border-radius: 8px; overflow: hidden; }
table.summary th, table.summary td { padding: 6px 14px; text-align: right;
    border-bottom: 1px solid var(--line); }
table.summary th { background: #fafbfc; font-weight: 600; color: var(--muted); font-size: 12px;
                   text-transform: uppercase; letter-spacing: .03em; }
table.summary td:first-child, table.summary th:first-child { text-align: left; font-weight: 600; }
table.summary tr:last-child td { border-bottom: 0; }
table.summary tr.off td { opacity: .35; }
td.n-done { color: var(--done); } td.n-failed { color: var(--failed); }
    td.n-skipped { color: var(--skipped); }
form.filters { display: flex; flex-wrap: wrap; gap: 10px 22px; align-items: center;
               background: var(--card); border: 1px solid var(--line); border-radius: 8px;
               padding: 10px 16px; }
form.filters fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap;
    gap: 4px 12px; }
form.filters legend, form.filters .lbl { float: left; font-weight: 600; margin-right: 8px;
    color: var(--muted); }
form.filters select { font: inherit; padding: 2px 6px; }
#f-count { color: var(--muted); width: 100%; }
main { padding: 0 28px 40px; }
section.domain > h2 { font-size: 17px; margin: 22px 0 10px; text-transform: capitalize; }
section.domain > h2 .count { color: var(--muted); font-weight: 400; font-size: 13px;
    text-transform: none; }
article.question { display: grid; grid-template-columns: 300px 1fr; gap: 18px;
                   background: var(--card); border: 1px solid var(--line); border-radius: 10px;
                   padding: 14px; margin-bottom: 14px; }
.qinfo h3 { margin: 0 0 6px; font-size: 15px;
    font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.prompt { margin: 0 0 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
.frames { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
figure { margin: 0; }
figure img { width: 100%; display: block; border-radius: 6px; border: 1px solid var(--line);
             image-rendering: pixelated; background: #fff; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 2px; }
.cells { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px;
    align-content: start; }
.cell { border: 1px solid var(--line); border-radius: 8px; padding: 8px; min-width: 0; }
.cell.done { border-top: 3px solid var(--done); }
.cell.failed { border-top: 3px solid var(--failed); background: #fffafa; }
.cell.skipped { border-top: 3px solid #c5cad3; background: #fbfbfc; }
.head { display: flex; justify-content: space-between; gap: 6px; align-items: baseline;
    margin-bottom: 6px; }
.model { font-weight: 600; overflow-wrap: anywhere; }
.badge { font-size: 11px; font-weight: 600; padding: 1px 8px; border-radius: 99px;
         text-transform: uppercase; letter-spacing: .04em; white-space: nowrap; }
.done .badge { color: var(--done); background: var(--done-bg); }
.failed .badge { color: var(--failed); background: var(--failed-bg); }
.skipped .badge { color: var(--skipped); background: var(--skipped-bg); }
.screen { aspect-ratio: 4 / 3; background: #111; border-radius: 6px; overflow: hidden;
          display: flex; align-items: center; justify-content: center; }
.screen video { width: 100%; height: 100%; object-fit: contain; display: block; }
.screen.empty { background: var(--bg); align-items: flex-start; justify-content: flex-start;
                padding: 10px; overflow: auto; }
.why { font-size: 12.5px; overflow-wrap: anywhere; white-space: pre-wrap; margin: 0; }
.failed .why { color: var(--failed); }
.skipped .why { color: var(--muted); }
.why code { font-weight: 600; }
.facts { color: var(--muted); font-size: 12px; margin-top: 6px; }
.run { color: #98a2b3; font-size: 11px; font-family: ui-monospace, "DejaVu Sans Mono", monospace;
       overflow-wrap: anywhere; margin-top: 2px; }
details.sheet { margin-top: 4px; font-size: 12px; }
details.sheet img { width: 100%; margin-top: 4px; border-radius: 4px; }
.none { color: var(--muted); padding: 40px 0; text-align: center; }
@media (max-width: 760px) { article.question { grid-template-columns: 1fr; } }
)css";
}

const char* gallery_js() {
    return R"js(
(function () {
  "use strict";
  var all = function (sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  };
  var form = document.getElementById("filters");
  function apply() {
    var models = {};
    all("input[name=model]:checked", form).forEach(function (b) { models[b.value] = true; });
    var domain = document.getElementById("f-domain").value;
    var status = document.getElementById("f-status").value;
    var shownQ = 0, shownCells = 0;
    all("article.question").forEach(function (q) {
      var inDomain = domain === "" || q.dataset.domain === domain;
      var any = false;
      all(".cell", q).forEach(function (c) {
        var on = inDomain && models[c.dataset.model] === true &&
                 (status === "" || c.dataset.status === status);
        c.hidden = !on;
        if (on) { any = true; shownCells++; }
      });
      q.hidden = !any;
      if (any) shownQ++;
    });
    all("section.domain").forEach(function (d) {
      d.hidden = !d.querySelector("article.question:not([hidden])");
    });
    all("table.summary tr[data-model]").forEach(function (r) {
      r.classList.toggle("off", !models[r.dataset.model]);
    });
    document.getElementById("f-count").textContent =
      "showing " + shownQ + " question" + (shownQ === 1 ? "" : "s") + ", " +
      shownCells + " run" + (shownCells === 1 ? "" : "s");
    document.getElementById("f-none").hidden = shownQ > 0;
  }
  form.addEventListener("change", apply);
  apply();
  var wake = function (v) { v.preload = "metadata"; };
  if ("IntersectionObserver" in window) {
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { wake(e.target); io.unobserve(e.target); }
      });
    }, {rootMargin: "800px 0px"});
    all("video").forEach(function (v) { io.observe(v); });
  } else {
    all("video").forEach(wake);
  }
})();
)js";
}

}  // namespace vmeval::report
