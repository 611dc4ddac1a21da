import Foundation
import Metrics
import PairVocabulary
import WebServing

/// The page, rendered in fragments by the server: the first load and every update carry the same HTML, so the
/// script only swaps fragments in (no second renderer in JavaScript, no escaping there).
enum DashboardPage {
    /// Pairs listed, newest first; the counts cover every pair of the run.
    static let pairsListed = 60

    /// The fragments by the id of the element they fill.
    static func fragments(_ s: DashboardState) -> [String: String] {
        ["status": status(s), "warnings": warnings(s), "cameras": cameras(s), "trigger": trigger(s),
         "counts": counts(s), "pairs": pairs(s), "notices": notices(s)]
    }

    struct Update: Encodable {
        let version: Int
        let phase: DashboardState.Phase
        let pairs: Int
        let warnings: [DashboardWarning]
        let html: [String: String]
    }

    static func json(_ s: DashboardState) throws -> Data {
        try Responses.jsonEncoder.encode(Update(version: s.version, phase: s.phase, pairs: s.pairs.count,
                                                warnings: s.warnings, html: fragments(s)))
    }

    static func page(_ s: DashboardState) -> String {
        let f = fragments(s)
        func section(_ id: String, _ tag: String = "section") -> String { "<\(tag) id=\"\(id)\">\(f[id] ?? "")</\(tag)>" }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(s.warnings.isEmpty ? "" : "⚠ ")rigctl capture</title>
            <link rel="stylesheet" href="/static/review.css">
            <link rel="stylesheet" href="/static/dashboard.css">
            </head><body data-version="\(s.version)"\(s.warnings.isEmpty ? "" : " class=\"alarmed\"")>
            <header><h1>rigctl capture</h1>\(section("status", "span"))\
            <span class="badge" id="gone" hidden>this page no longer updates: the capture has ended or cannot be reached</span></header>
            \(section("warnings"))
            <main id="dashboard">
            <div class="panels">\(section("cameras"))\(section("trigger"))\(section("counts"))</div>
            \(section("pairs"))
            \(section("notices"))
            </main>
            <script src="/static/dashboard.js"></script>
            </body></html>
            """
    }

    static func status(_ s: DashboardState) -> String {
        let planned = s.planned > 0 ? " of \(s.planned)" : ""
        let waiting = s.processingWaiting > 0 ? ", \(s.processingWaiting) waiting for processing" : ""
        return "<b class=\"phase phase-\(s.phase.rawValue)\" id=\"phase\">\(s.phase.rawValue)</b> "
            + "<span><b id=\"pair-count\">\(s.pairs.count)</b>\(planned) pair(s)\(waiting)</span> "
            + "<span class=\"muted\">\(HTML.escape(s.scene.map { "scene \($0) · " } ?? ""))\(HTML.escape(s.destination))</span>"
    }

    static func warnings(_ s: DashboardState) -> String {
        s.warnings.map { w in
            let times = w.count > 1 ? " <span class=\"times\">(\(w.count) times)</span>" : ""
            return "<div class=\"alarm\" role=\"alert\" data-kind=\"\(w.kind.rawValue)\"\(w.role.map { " data-role=\"\($0)\"" } ?? "")>"
                + "<b>\(HTML.escape(title(w.kind, role: w.role)))</b> \(HTML.escape(w.message))\(times)"
                + " <time datetime=\"\(iso(w.since))\">since \(clock(w.since))</time></div>"
        }.joined()
    }

    static func title(_ kind: DashboardWarning.Kind, role: CameraRole?) -> String {
        let camera = role.map { "\($0) camera" } ?? "a camera"
        return switch kind {
        case .missingFrame: "Frame missing (\(camera)):"
        case .cameraGone: "\(camera.prefix(1).uppercased() + camera.dropFirst()) gone:"
        case .lowBattery: "Battery low:"
        case .lowCard: "Card filling up:"
        case .rejectionStreak: "Pairs rejected in a row:"
        case .skewOverLimit: "Skew over the limit:"
        case .captureFailed: "Capture stopped:"
        case .processingFailed: "Processing failed:"
        }
    }

    static func cameras(_ s: DashboardState) -> String {
        var html = "<h2>Cameras</h2>"
        guard !s.cameras.isEmpty else { return html + "<p class=\"muted\">connecting…</p>" }
        for c in s.cameras {
            var rows: [(String, String)] = [("model", c.model ?? "–"), ("port", c.port),
                                            ("connection", c.connected ? "connected" : "GONE"),
                                            ("battery", c.battery ?? "–")]
            rows.append(("free space", c.capturesToHost ? "captures to the host" : c.freeBytes.map(bytes) ?? "–"))
            if !c.capturesToHost { rows.append(("pairs that fit", c.shotsThatFit.map(String.init) ?? "–")) }
            rows += c.settings.map { ($0.name, $0.value) }
            rows.append(("read", clock(c.readAt)))
            html += "<div class=\"camera\(c.connected ? "" : " gone")\" data-role=\"\(c.role)\"><h3>\(c.role)</h3>"
                + table(rows) + "</div>"
        }
        return html
    }

    static func trigger(_ s: DashboardState) -> String {
        let t = s.trigger
        var rows: [(String, String)] = [("kind", t.mode.rawValue)]
        if let box = t.box {
            rows += [("box", "\(box.name) on \(box.device)"),
                     ("shutter outputs", box.shutterOutputs.map(String.init).joined(separator: ", ")),
                     ("bulb", "\(box.bulbMilliseconds) ms")]
        }
        rows.append(("pairs fired", "\(t.firings)"))
        rows.append(("last firing", t.lastFired.map(clock) ?? "–"))
        rows.append(("max skew", t.maxSkew.map { String(format: "%.3f ms", $0 * 1000) } ?? "no limit"))
        if let fit = s.fit { rows.append(("pairs that fit", "\(fit.pairs) (\(fit.role) card, \(fit.basis.wording))")) }
        return "<h2>Trigger</h2>" + table(rows)
    }

    static func counts(_ s: DashboardState) -> String {
        let c = s.counts
        func list(_ title: String, _ kind: String, _ items: [(String, Int)]) -> String {
            "<h3>\(title)</h3><table class=\"figures\" data-count=\"\(kind)\">"
                + items.map { "<tr><th>\(HTML.escape($0.0))</th><td data-key=\"\(HTML.escape($0.0))\">\($0.1)</td></tr>" }.joined()
                + "</table>"
        }
        guard !s.pairs.isEmpty else { return "<h2>Counts</h2><p class=\"muted\">no pair yet</p>" }
        return "<h2>Counts</h2>" + list("by scene", "scene", c.scenes) + list("by split", "split", c.splits)
            + list("by verdict", "verdict", c.verdicts)
    }

    static func pairs(_ s: DashboardState) -> String {
        guard !s.pairs.isEmpty else { return "<h2>Pairs</h2><p class=\"muted\">no pair yet</p>" }
        let limit = s.trigger.maxSkew
        let rows = s.pairs.suffix(pairsListed).reversed().map { p -> String in
            let thumbs = CameraRole.allCases.map { role -> String in
                switch p.thumbnails {
                case .ready: "<img src=\"/thumbnails/\(p.number)/\(role).jpg\" alt=\"\(role) frame of pair \(p.number)\" width=\"120\">"
                case .pending: "<span class=\"thumb\">…</span>"
                case .failed: "<span class=\"thumb\">no preview</span>"
                }
            }.joined()
            let over = limit.map { abs(p.skew) > $0 } ?? false
            let skew = p.triggerSkew.map { String(format: "%.3f ms", $0 * 1000) } ?? "–"
            let verdict = p.verdict.map { "<span class=\"v-\($0)\">\($0)</span>" } ?? "<span class=\"muted\">processing…</span>"
            let reasons = p.reasons.isEmpty ? "" : "<div class=\"reasons\">\(HTML.escape(p.reasons.joined(separator: "; ")))</div>"
            return "<tr data-pair=\"\(p.number)\"\(p.verdict.map { " data-verdict=\"\($0)\"" } ?? "")>"
                + "<td class=\"num\">\(p.number)</td><td>\(clock(p.firedAt))</td><td class=\"thumbs\">\(thumbs)</td>"
                + "<td class=\"num\(over ? " over" : "")\">\(skew)</td>"
                + "<td class=\"num\(over && p.triggerSkew == nil ? " over" : "")\">\(String(format: "%.1f ms", p.arrivalSkew * 1000))</td>"
                + "<td>\(verdict)\(reasons)</td><td class=\"num\">\(scores(p.input))</td>"
                + "<td class=\"num\">\(scores(p.deblurred))\(p.model.map { "<div class=\"muted\">\(HTML.escape($0))</div>" } ?? "")</td>"
                + "<td>\(HTML.escape(p.scene ?? "–"))</td><td>\(p.split?.rawValue ?? "–")</td></tr>"
        }.joined()
        let more = s.pairs.count > pairsListed ? "<p class=\"muted\">the newest \(pairsListed) of \(s.pairs.count) pairs</p>" : ""
        return "<h2>Pairs</h2><div class=\"table-wrap\"><table class=\"queue\"><thead><tr><th>#</th><th>fired</th>"
            + "<th>shallow · deep</th><th>trigger skew</th><th>arrival skew</th><th>verdict</th><th>input PSNR / SSIM</th>"
            + "<th>model PSNR / SSIM / LPIPS</th><th>scene</th><th>split</th></tr></thead><tbody>\(rows)</tbody></table></div>"
            + more
    }

    static func notices(_ s: DashboardState) -> String {
        guard !s.notices.isEmpty else { return "" }
        return "<h2>Pre-flight notes</h2><ul>" + s.notices.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>"
    }

    static func scores(_ r: MetricReport?) -> String {
        guard let r else { return "–" }
        let psnr = r.psnr.isFinite ? String(format: "%.2f dB", r.psnr) : "∞"
        return psnr + String(format: " / %.3f", r.ssim) + (r.lpips.map { String(format: " / %.3f", $0) } ?? "")
    }

    static func table(_ rows: [(String, String)]) -> String {
        "<table class=\"figures\">" + rows.map { "<tr><th>\(HTML.escape($0.0))</th><td>\(HTML.escape($0.1))</td></tr>" }.joined()
            + "</table>"
    }

    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(n), unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func clock(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "HH:mm:ss"
        return f.string(from: date)
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    static let css = """
        body.alarmed header { background: #c62828; color: #fff; }
        body.alarmed header .muted { color: #fde0e0; }
        .muted { color: var(--muted); }
        #warnings:empty { display: none; }
        #warnings { padding: .5em 1em; }
        .alarm { background: #c62828; color: #fff; font-size: 1.25em; padding: .5em .8em; margin: .3em 0; border-radius: 4px; }
        .alarm time { font-size: .8em; opacity: .85; }
        .phase { text-transform: uppercase; letter-spacing: .05em; }
        .phase-failed { color: #c62828; } .phase-finished { color: #2e7d32; }
        body.alarmed .phase-failed { color: #fff; }
        .panels { display: flex; flex-wrap: wrap; gap: 1em; padding: 0 1em; }
        .panels section { flex: 1 1 18em; }
        .panels #cameras { flex: 2 1 34em; display: flex; flex-wrap: wrap; gap: 0 1.5em; align-items: flex-start; }
        .camera { flex: 1 1 15em; }
        #cameras h2 { flex-basis: 100%; }
        .camera.gone { outline: 3px solid #c62828; padding: .3em; }
        .camera h3, #counts h3 { margin: .3em 0; font-size: 1em; }
        h2 { font-size: 1.05em; margin: .8em 0 .3em; }
        #pairs, #notices { padding: 0 1em; }
        td.thumbs { white-space: nowrap; }
        td.thumbs img, td.thumbs .thumb { display: inline-block; width: 120px; height: auto; margin-right: 4px; vertical-align: middle; background: #808080; }
        td.thumbs .thumb { height: 80px; line-height: 80px; text-align: center; color: #fff; font-size: .85em; }
        td.over { color: #c62828; font-weight: 700; }
        .reasons { color: var(--muted); white-space: normal; max-width: 30em; font-size: .9em; }
        #gone[hidden] { display: none; }
        """

    /// Polls twice a second for news (`?since=` answers 204 while there is none) and swaps the fragments in.
    static let script = #"""
    "use strict";
    (function () {
      let version = Number(document.body.dataset.version);
      function show(data) {
        version = data.version;
        Object.keys(data.html).forEach(function (id) {
          const element = document.getElementById(id);
          if (element && element.innerHTML !== data.html[id]) element.innerHTML = data.html[id];
        });
        const alarmed = data.warnings.length > 0;
        document.body.classList.toggle("alarmed", alarmed);
        document.title = (alarmed ? "\u26A0 " : "") + "rigctl capture";
        document.body.dataset.version = String(version);
      }
      function poll() {
        fetch("/api/dashboard?since=" + version, { cache: "no-store" })
          .then(function (r) {
            document.getElementById("gone").hidden = true;
            return r.status === 200 ? r.json() : null;
          })
          .then(function (data) { if (data) show(data); })
          .catch(function () { document.getElementById("gone").hidden = false; })
          .finally(function () { setTimeout(poll, 500); });
      }
      setTimeout(poll, 500);
    })();
    """#
}
