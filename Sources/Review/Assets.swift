import WebServing

/// The stylesheet and scripts, compiled into the binary: the server needs no files beside it and loads nothing
/// from elsewhere (the Content-Security-Policy allows only its own origin).
enum Assets {
    struct Asset {
        let type: String
        let text: String
    }

    static func named(_ name: String) -> Asset? {
        switch name {
        case "review.css": Asset(type: "text/css; charset=utf-8", text: Stylesheet.css)
        case "queue.js": Asset(type: "text/javascript; charset=utf-8", text: queueJS)
        case "pair.js": Asset(type: "text/javascript; charset=utf-8", text: pairJS)
        default: nil
        }
    }


    /// The queue: j/k move a highlight through the rows, x selects the highlighted one, Enter opens it; filter
    /// menus apply at once; batch decisions on the selected rows (or every matching pair) after a confirmation.
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

      const batch = document.getElementById("batch");
      let matching = false, pending = null;
      function pick(row) { return row.querySelector("input.pick"); }
      function selectedIDs() { return rows.filter(function (r) { return pick(r) && pick(r).checked; }).map(function (r) { return Number(r.dataset.id); }); }
      function count() { return matching ? Number(batch.dataset.total) : selectedIDs().length; }
      function update() {
        if (!batch) return;
        const n = count();
        document.getElementById("selected").textContent = matching ? "all " + n + " matching selected" : n + " selected";
        batch.querySelectorAll("button[data-batch]").forEach(function (b) { b.disabled = n === 0; });
        document.getElementById("confirm").hidden = true;
        pending = null;
      }
      function setAll(on) { rows.forEach(function (r) { if (pick(r)) pick(r).checked = on; }); }
      if (batch) {
        rows.forEach(function (r) { if (pick(r)) pick(r).addEventListener("change", function () { matching = false; update(); }); });
        document.getElementById("pick-all").addEventListener("change", function (e) { matching = false; setAll(e.target.checked); update(); });
        document.getElementById("select-matching").addEventListener("click", function () {
          matching = true; setAll(true); document.getElementById("pick-all").checked = true; update();
        });
        batch.querySelectorAll("button[data-batch]").forEach(function (b) {
          b.addEventListener("click", function () {
            const n = count();
            if (!n) return;
            pending = { state: b.dataset.batch, ids: matching ? null : selectedIDs(), n: n };
            document.getElementById("confirm-text").textContent = "Mark " + n + (n === 1 ? " pair" : " pairs") + " as " + pending.state
              + (matching ? " (every pair matching the filter)" : "") + "?";
            document.getElementById("confirm").hidden = false;
            document.getElementById("confirm-yes").focus();
          });
        });
        document.getElementById("confirm-no").addEventListener("click", update);
        document.getElementById("confirm-yes").addEventListener("click", function () {
          if (!pending) return;
          const decision = pending, status = document.getElementById("batch-status");
          const note = document.getElementById("batch-note").value;
          const body = { state: decision.state };
          if (note) body.note = note;
          if (decision.ids) body.ids = decision.ids; else { body.filter = batch.dataset.filter; body.expected = decision.n; }
          document.getElementById("confirm").hidden = true;
          status.textContent = "saving…";
          fetch("/api/review", { method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
                                 body: JSON.stringify(body) }).then(function (r) {
            return r.json().then(function (reply) {
              if (!r.ok) throw new Error(reply.error || r.status);
              const done = new Set(reply.ids.map(String));
              rows.forEach(function (row) {
                if (!done.has(row.dataset.id)) return;
                const cell = row.querySelector(".review");
                cell.textContent = reply.reviewState;
                cell.className = "review r-" + reply.reviewState;
                if (note) cell.title = note;
              });
              matching = false; setAll(false); document.getElementById("pick-all").checked = false; update();
              status.textContent = reply.updated + (reply.updated === 1 ? " pair" : " pairs") + " marked " + reply.reviewState;
            });
          }).catch(function (err) { status.textContent = "not saved: " + err.message; });
        });
      }

      // Columns: the chooser's boxes show and hide every cell of a column; the choice is kept in this browser.
      const stored = "rigctl-review-columns";
      let chosen = {};
      try { chosen = JSON.parse(localStorage.getItem(stored) || "{}") || {}; } catch (e) { chosen = {}; }
      const cells = Array.from(document.querySelectorAll("table.queue [data-col]"));
      function show(key, on) { cells.forEach(function (c) { if (c.dataset.col === key) c.hidden = !on; }); }
      document.querySelectorAll("details.columns input[data-col]").forEach(function (box) {
        if (Object.prototype.hasOwnProperty.call(chosen, box.dataset.col)) box.checked = !!chosen[box.dataset.col];
        show(box.dataset.col, box.checked);
        box.addEventListener("change", function () {
          chosen[box.dataset.col] = box.checked;
          try { localStorage.setItem(stored, JSON.stringify(chosen)); } catch (e) {}
          show(box.dataset.col, box.checked);
        });
      });

      // Thumbnails as their rows come into view, two requests at a time; a busy server (503) is asked again.
      const waiting = [];
      let inFlight = 0;
      function pump() {
        while (inFlight < 2 && waiting.length) {
          const img = waiting.shift();
          inFlight += 1;
          img.onload = function () { inFlight -= 1; pump(); };
          img.onerror = function () {
            inFlight -= 1;
            const tries = Number(img.dataset.tries || 0) + 1;
            img.dataset.tries = tries;
            if (tries < 6) setTimeout(function () { waiting.push(img); pump(); }, 300 * tries);
            pump();
          };
          img.src = img.dataset.src + (img.dataset.tries ? "&try=" + img.dataset.tries : "");
        }
      }
      const thumbs = Array.from(document.querySelectorAll("table.queue img[data-src]"));
      if ("IntersectionObserver" in window) {
        const watcher = new IntersectionObserver(function (entries) {
          entries.forEach(function (entry) {
            if (!entry.isIntersecting) return;
            watcher.unobserve(entry.target);
            waiting.push(entry.target);
          });
          pump();
        }, { rootMargin: "200px" });
        thumbs.forEach(function (t) { watcher.observe(t); });
      } else {
        thumbs.forEach(function (t) { waiting.push(t); });
        pump();
      }

      document.addEventListener("keydown", function (e) {
        if (e.target.closest("input[type=text], select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
        if (e.key === "j") highlight(current + 1);
        else if (e.key === "k") highlight(current - 1);
        else if (e.key === "x" && current >= 0 && pick(rows[current])) { const p = pick(rows[current]); p.checked = !p.checked; matching = false; update(); }
        else if (e.key === "Enter" && current >= 0 && e.target.tagName !== "BUTTON") rows[current].querySelector("a").click();
        else return;
        e.preventDefault();
      });
    })();
    """#

    /// The pair view: one pan/zoom shared by every view (CSS transforms), flicker, wipe, difference and frame
    /// modes, the misalignment map and crop overlays (SVG inside the stages, so they pan and zoom with the image),
    /// and decisions by button or key, posted to the API.
    static let pairJS = #"""
    "use strict";
    (function () {
      const main = document.getElementById("pair");
      const id = main.dataset.id, query = main.dataset.query;
      const crop = main.dataset.crop ? main.dataset.crop.split(",").map(Number) : null;
      const views = document.querySelector(".views");
      const stages = Array.from(document.querySelectorAll(".stage"));
      const stageA = document.querySelector("#view-a .stage");
      const baseA = document.querySelector("#view-a img:not(.over)");
      const over = document.querySelector("#view-a img.over");
      const wipe = document.getElementById("wipe");
      const status = document.getElementById("status");
      const zoomLabel = document.getElementById("zoom");
      const sourceURL = baseA.getAttribute("src");
      const images = "/api/pairs/" + id + "/image/";
      // What flicker and wipe compare the source with: the target, then each stored model output.
      const comparisons = [{ name: "target", url: over.getAttribute("src") }].concat(
        Array.from(document.querySelectorAll(".view.output")).map(function (v) {
          return { name: v.dataset.model + " output", url: v.querySelector("img").getAttribute("src") };
        }));
      let compared = 0;
      const view = { s: 1, x: 0, y: 0 };
      let fittedTo = null;

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
        fittedTo = n.w + "x" + n.h;
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
      // Fit once the first image is in, and again whenever the image's size changes (the original frame).
      function loaded() { const n = natural(); if (baseA.naturalWidth && fittedTo !== n.w + "x" + n.h) fit(); }
      baseA.addEventListener("load", loaded);
      if (baseA.complete) loaded();
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

      function svg(tag, attributes) {
        const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
        Object.keys(attributes || {}).forEach(function (k) { e.setAttribute(k, attributes[k]); });
        return e;
      }
      // The crop over the original frame: a dashed outline, and the parts of the frame outside it shaded.
      let cropLayer = null;
      if (crop) {
        cropLayer = svg("svg", { "class": "overlay crop-frame", width: crop[0] + crop[2], height: crop[1] + crop[3] });
        const outline = svg("rect", { x: crop[0], y: crop[1], width: crop[2], height: crop[3],
                                      "vector-effect": "non-scaling-stroke" });
        cropLayer.appendChild(outline);
        stageA.appendChild(cropLayer);
      }
      function shadeOutsideCrop() {
        if (!cropLayer || !baseA.src.endsWith("/image/original") || cropLayer.querySelector("path")) return;
        const w = baseA.naturalWidth, h = baseA.naturalHeight;
        cropLayer.setAttribute("width", w); cropLayer.setAttribute("height", h);
        cropLayer.insertBefore(svg("path", { d: "M0 0H" + w + "V" + h + "H0Z M" + crop[0] + " " + crop[1] + "h" + crop[2]
                                                + "v" + crop[3] + "h" + (-crop[2]) + "Z" }), cropLayer.firstChild);
      }
      baseA.addEventListener("load", shadeOutsideCrop);

      // The misalignment map, measured by the server on first use and drawn over every view.
      let map = null, mapRequested = false;
      const mapButton = document.getElementById("map-toggle");
      function drawMap(data) {
        const failing = new Set(data.misaligned.map(function (b) { return b.x + "," + b.y; }));
        stages.forEach(function (st) {
          const layer = svg("svg", { "class": "overlay map", width: data.width, height: data.height });
          const g = svg("g");
          layer.appendChild(g);
          data.map.forEach(function (row, r) {
            row.forEach(function (shift, c) {
              if (shift === null) return;
              const x = c * data.blockSize, y = r * data.blockSize;
              const level = shift < data.maxBlockShift / 2 ? "good" : shift < data.maxBlockShift ? "fair" : "bad";
              const rect = svg("rect", { x: x, y: y, width: data.blockSize, height: data.blockSize,
                                         "class": "block " + level + (failing.has(x + "," + y) ? " failing" : ""),
                                         "data-shift": shift, "vector-effect": "non-scaling-stroke" });
              const title = svg("title");
              title.textContent = "block at (" + x + ", " + y + "): shift " + shift.toFixed(2) + " px";
              rect.appendChild(title);
              g.appendChild(rect);
            });
          });
          st.appendChild(layer);
        });
        map = data;
        placeMap();
        document.getElementById("map-summary").textContent = data.measured + " of " + data.columns * data.rows
          + " blocks measured, " + data.misaligned.length + " failing"
          + (data.p95Shift === null ? "" : "; 95th percentile shift " + data.p95Shift.toFixed(2) + " px");
      }
      // Over the original frame the map sits where the crop was taken from.
      function placeMap() {
        const layer = stageA.querySelector("svg.map g");
        if (!layer) return;
        layer.setAttribute("transform", views.dataset.mode === "frame" && crop ? "translate(" + crop[0] + " " + crop[1] + ")" : "");
      }
      function toggleMap() {
        const on = !views.classList.contains("map-on");
        views.classList.toggle("map-on", on);
        mapButton.setAttribute("aria-pressed", on ? "true" : "false");
        mapButton.classList.toggle("active", on);
        if (on && !mapRequested) {
          mapRequested = true;
          status.textContent = "measuring the misalignment map…";
          fetch("/api/pairs/" + id + "/misalignment", { credentials: "same-origin" }).then(function (r) {
            return r.json().then(function (body) {
              if (!r.ok) throw new Error(body.error || r.status);
              drawMap(body);
              status.textContent = "misalignment map";
            });
          }).catch(function (err) { mapRequested = false; status.textContent = "no map: " + err.message; });
        }
      }
      mapButton.addEventListener("click", toggleMap);

      function setWipe() { over.style.clipPath = "inset(0 0 0 " + wipe.value + "%)"; }
      wipe.addEventListener("input", setWipe);
      function mode(m) {
        if (m === "frame" && !crop) return;
        views.dataset.mode = m;
        document.body.classList.toggle("wipe", m === "wipe");
        views.classList.remove("showing-target");
        const src = m === "difference" ? images + "difference" : m === "frame" ? images + "original" : sourceURL;
        if (baseA.getAttribute("src") !== src) baseA.src = src;
        over.style.clipPath = m === "wipe" ? "inset(0 0 0 " + wipe.value + "%)" : "";
        document.querySelectorAll("[data-mode]").forEach(function (b) {
          if (b.tagName === "BUTTON") b.classList.toggle("active", b.dataset.mode === m);
        });
        placeMap();
      }
      function flicker() {
        if (views.dataset.mode !== "flicker") { mode("flicker"); }
        views.classList.toggle("showing-target");
        status.textContent = views.classList.contains("showing-target") ? comparisons[compared].name : "source";
      }
      function nextComparison() {
        compared = (compared + 1) % comparisons.length;
        over.src = comparisons[compared].url;
        const name = document.getElementById("compare-name");
        if (name) name.textContent = comparisons[compared].name;
        if (views.dataset.mode === "flicker" && views.classList.contains("showing-target")) status.textContent = comparisons[compared].name;
      }
      const compareButton = document.getElementById("compare");
      if (compareButton) compareButton.addEventListener("click", nextComparison);
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

      // Keys are typed text only in fields that take text: a focused slider, checkbox or button keeps the shortcuts
      // (after dragging the wipe slider, space must still flicker).
      const textTypes = ["text", "search", "email", "url", "tel", "password", "number", "date", "datetime-local", "month", "time", "week"];
      function takesText(el) {
        if (el.closest("textarea, select, [contenteditable=''], [contenteditable=true]")) return true;
        return el.tagName === "INPUT" && textTypes.indexOf(el.type) >= 0;
      }
      document.addEventListener("keydown", function (e) {
        if (takesText(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
        const keys = {
          a: function () { decide("approved"); }, r: function () { decide("rejected"); },
          f: function () { decide("flagged"); }, u: function () { decide("unreviewed"); },
          j: function () { go(main.dataset.next); }, k: function () { go(main.dataset.prev); },
          " ": flicker, s: function () { mode("side"); }, w: function () { mode("wipe"); },
          d: function () { mode("difference"); }, c: function () { mode("frame"); }, m: toggleMap,
          o: nextComparison, "0": fit, "1": oneToOne,
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
