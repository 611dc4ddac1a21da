/// The stylesheet and scripts, compiled into the binary: the server needs no files beside it and loads nothing
/// from elsewhere (the Content-Security-Policy allows only its own origin).
enum Assets {
    struct Asset {
        let type: String
        let text: String
    }

    static func named(_ name: String) -> Asset? {
        switch name {
        case "review.css": Asset(type: "text/css; charset=utf-8", text: css)
        case "queue.js": Asset(type: "text/javascript; charset=utf-8", text: queueJS)
        case "pair.js": Asset(type: "text/javascript; charset=utf-8", text: pairJS)
        default: nil
        }
    }

    static let css = #"""
    :root { color-scheme: light dark; --bg: #fff; --fg: #1b1b1b; --muted: #666; --line: #ddd; --accent: #0b62d6; }
    @media (prefers-color-scheme: dark) { :root { --bg: #161616; --fg: #eee; --muted: #aaa; --line: #333; --accent: #6aa8ff; } }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
    header { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: baseline; padding: .6em 1em; border-bottom: 1px solid var(--line); }
    header h1 { font-size: 1.15em; margin: 0; }
    a { color: var(--accent); }
    .badge { background: #b36b00; color: #fff; padding: .1em .5em; border-radius: 3px; }
    .counts { display: flex; flex-wrap: wrap; gap: .4em 1.2em; padding: .5em 1em; color: var(--muted); }
    .counts b { color: var(--fg); }
    .filters { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: center; padding: .4em 1em; }
    .table-wrap { overflow-x: auto; padding: 0 1em; }
    table.queue { border-collapse: collapse; width: 100%; }
    table.queue th, table.queue td { padding: .25em .6em; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
    table.queue th a { text-decoration: none; }
    table.queue tr.current { outline: 2px solid var(--accent); }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    .v-rejected, .r-rejected { color: #c62828; } .v-accepted, .r-approved { color: #2e7d32; }
    .v-review, .r-flagged { color: #b36b00; }
    .pager { padding: .6em 1em; display: flex; gap: 1em; }
    .message { padding: 2em; }
    .disabled { color: var(--muted); }
    .toolbar, .decide { display: flex; flex-wrap: wrap; gap: .4em; align-items: center; padding: .4em 1em; }
    .toolbar button.active { outline: 2px solid var(--accent); }
    #note { flex: 1; min-width: 12em; }
    .views { display: flex; gap: 4px; padding: 0 1em; height: 70vh; }
    .view { flex: 1; margin: 0; position: relative; overflow: hidden; border: 1px solid var(--line); background: #808080; cursor: grab; touch-action: none; }
    .view figcaption { position: absolute; z-index: 2; left: 0; top: 0; background: rgba(0,0,0,.6); color: #fff; padding: .1em .5em; pointer-events: none; }
    .stage { position: absolute; left: 0; top: 0; transform-origin: 0 0; }
    .stage img { position: absolute; left: 0; top: 0; max-width: none; user-select: none; -webkit-user-drag: none; }
    .views.pixels .stage img { image-rendering: pixelated; }
    .stage img.over { display: none; }
    .views[data-mode="flicker"] #view-b, .views[data-mode="wipe"] #view-b, .views[data-mode="difference"] #view-b { display: none; }
    .views[data-mode="flicker"].showing-target img.over { display: block; }
    .views[data-mode="wipe"] img.over { display: block; }
    #wipe { display: none; width: 12em; }
    body.wipe #wipe { display: inline-block; }
    aside { padding: .5em 1em 2em; }
    aside h2 { font-size: 1em; margin: .8em 0 .3em; }
    table.figures th { text-align: left; padding-right: 1em; font-weight: 600; }
    table.figures td { font-variant-numeric: tabular-nums; }
    @media (max-width: 760px) { .views { flex-direction: column; height: 90vh; } }
    """#

    /// The queue: j/k move a highlight through the rows, Enter opens the pair; filter menus apply at once.
    static let queueJS = #"""
    "use strict";
    (function () {
      const rows = Array.from(document.querySelectorAll("table.queue tbody tr"));
      let current = -1;
      function highlight(i) {
        if (!rows.length) return;
        if (current >= 0) rows[current].classList.remove("current");
        current = Math.max(0, Math.min(rows.length - 1, i));
        rows[current].classList.add("current");
        rows[current].scrollIntoView({ block: "nearest" });
      }
      document.querySelectorAll(".filters select").forEach(function (s) {
        s.addEventListener("change", function () { s.form.submit(); });
      });
      document.addEventListener("keydown", function (e) {
        if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
        if (e.key === "j") highlight(current + 1);
        else if (e.key === "k") highlight(current - 1);
        else if (e.key === "Enter" && current >= 0) rows[current].querySelector("a").click();
        else return;
        e.preventDefault();
      });
    })();
    """#

    /// The pair view: one pan/zoom shared by both views (CSS transforms), flicker, wipe and difference modes, and
    /// decisions by button or key, posted to the API.
    static let pairJS = #"""
    "use strict";
    (function () {
      const main = document.getElementById("pair");
      const id = main.dataset.id, query = main.dataset.query;
      const views = document.querySelector(".views");
      const stages = Array.from(document.querySelectorAll(".stage"));
      const baseA = document.querySelector("#view-a img:not(.over)");
      const over = document.querySelector("#view-a img.over");
      const wipe = document.getElementById("wipe");
      const status = document.getElementById("status");
      const zoomLabel = document.getElementById("zoom");
      const sourceURL = baseA.getAttribute("src");
      const view = { s: 1, x: 0, y: 0 };
      let fitted = false;

      function natural() { return { w: baseA.naturalWidth || 1, h: baseA.naturalHeight || 1 }; }
      function box() { return document.getElementById("view-a").getBoundingClientRect(); }
      function apply() {
        const t = "translate(" + view.x + "px," + view.y + "px) scale(" + view.s + ")";
        stages.forEach(function (st) { st.style.transform = t; });
        views.classList.toggle("pixels", view.s >= 2);
        zoomLabel.textContent = Math.round(view.s * 100) + "%";
      }
      function fit() {
        const n = natural(), b = box();
        view.s = Math.min(b.width / n.w, b.height / n.h);
        view.x = (b.width - n.w * view.s) / 2;
        view.y = (b.height - n.h * view.s) / 2;
        apply();
      }
      function zoomAt(factor, cx, cy) {
        const s = Math.max(0.02, Math.min(64, view.s * factor));
        view.x = cx - (cx - view.x) * (s / view.s);
        view.y = cy - (cy - view.y) * (s / view.s);
        view.s = s;
        apply();
      }
      function oneToOne() { const b = box(); zoomAt(1 / view.s, b.width / 2, b.height / 2); }
      baseA.addEventListener("load", function () { if (!fitted) { fitted = true; fit(); } });
      if (baseA.complete && baseA.naturalWidth) { fitted = true; fit(); }
      window.addEventListener("resize", fit);

      document.querySelectorAll(".view").forEach(function (v) {
        v.addEventListener("wheel", function (e) {
          e.preventDefault();
          const r = v.getBoundingClientRect();
          zoomAt(Math.exp(-e.deltaY * 0.002), e.clientX - r.left, e.clientY - r.top);
        }, { passive: false });
        let drag = null;
        v.addEventListener("pointerdown", function (e) {
          drag = { x: e.clientX, y: e.clientY };
          v.setPointerCapture(e.pointerId);
        });
        v.addEventListener("pointermove", function (e) {
          if (!drag) return;
          view.x += e.clientX - drag.x; view.y += e.clientY - drag.y;
          drag = { x: e.clientX, y: e.clientY };
          apply();
        });
        v.addEventListener("pointerup", function () { drag = null; });
      });

      function setWipe() { over.style.clipPath = "inset(0 0 0 " + wipe.value + "%)"; }
      wipe.addEventListener("input", setWipe);
      function mode(m) {
        views.dataset.mode = m;
        document.body.classList.toggle("wipe", m === "wipe");
        views.classList.remove("showing-target");
        baseA.src = m === "difference" ? "/api/pairs/" + id + "/image/difference" : sourceURL;
        over.style.clipPath = m === "wipe" ? "inset(0 0 0 " + wipe.value + "%)" : "";
        document.querySelectorAll("[data-mode]").forEach(function (b) {
          if (b.tagName === "BUTTON") b.classList.toggle("active", b.dataset.mode === m);
        });
      }
      function flicker() {
        if (views.dataset.mode !== "flicker") { mode("flicker"); }
        views.classList.toggle("showing-target");
        status.textContent = views.classList.contains("showing-target") ? "target" : "source";
      }
      document.querySelectorAll("button[data-mode]").forEach(function (b) {
        b.addEventListener("click", function () { b.dataset.mode === "flicker" ? flicker() : mode(b.dataset.mode); });
      });
      document.getElementById("one").addEventListener("click", oneToOne);
      document.getElementById("fit").addEventListener("click", fit);

      function decide(state) {
        const noteField = document.getElementById("note");
        if (!noteField) { status.textContent = "read-only"; return; }
        status.textContent = "saving…";
        fetch("/api/pairs/" + id + "/review", {
          method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
          body: JSON.stringify({ state: state, note: noteField.value })
        }).then(function (r) {
          return r.json().then(function (body) {
            if (!r.ok) throw new Error(body.error || r.status);
            const el = document.getElementById("state");
            el.textContent = body.reviewState;
            el.className = "r-" + body.reviewState;
            status.textContent = "saved: " + body.reviewState;
          });
        }).catch(function (err) { status.textContent = "not saved: " + err.message; });
      }
      document.querySelectorAll("button[data-state]").forEach(function (b) {
        b.addEventListener("click", function () { decide(b.dataset.state); });
      });
      function go(target) { if (target) location.href = "/pairs/" + target + (query ? "?" + query : ""); }

      document.addEventListener("keydown", function (e) {
        if (e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
        const keys = {
          a: function () { decide("approved"); }, r: function () { decide("rejected"); },
          f: function () { decide("flagged"); }, u: function () { decide("unreviewed"); },
          j: function () { go(main.dataset.next); }, k: function () { go(main.dataset.prev); },
          " ": flicker, s: function () { mode("side"); }, w: function () { mode("wipe"); },
          d: function () { mode("difference"); }, "0": fit, "1": oneToOne,
          "+": function () { const b = box(); zoomAt(1.25, b.width / 2, b.height / 2); },
          "-": function () { const b = box(); zoomAt(0.8, b.width / 2, b.height / 2); }
        };
        const action = keys[e.key];
        if (!action) return;
        e.preventDefault();
        action();
      });
      mode("side");
    })();
    """#
}
