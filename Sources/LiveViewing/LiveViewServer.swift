import Alignment
import Foundation
import Hummingbird
import Logging
import ThreadSupport
import WebServing

/// One registered pair of live-view frames as the page shows it: the two views side by side, the overlay
/// (difference or checkerboard; both JPEG) and the measurement as JSON (whatever the caller measures; the page reads the fields it
/// knows). Produced by `rigctl rig liveview --serve`, which owns the cameras; the server only serves it.
public struct LiveViewSnapshot: Sendable {
    public var frame: Int
    public var views: Data
    /// The overlay image (served as /liveview/difference.jpg whichever it is).
    public var difference: Data
    /// Which overlay `difference` holds: the difference or the checkerboard (the page's caption says how to read it).
    public var overlay: LiveViewImages.Overlay
    public var measurement: Data
    /// The last failure to fetch or register a frame, if the newest attempt failed (the images stay the last good
    /// ones).
    public var error: String?

    public init(frame: Int, views: Data, difference: Data, overlay: LiveViewImages.Overlay = .difference, measurement: Data, error: String? = nil) {
        self.frame = frame
        self.views = views
        self.difference = difference
        self.overlay = overlay
        self.measurement = measurement
        self.error = error
    }
}

/// The newest snapshot, written by the thread that grabs frames and read by the server.
public final class LiveViewFeed: Sendable {
    private let latest = LockedValue<LiveViewSnapshot?>(nil)

    public init() {}

    public func publish(_ snapshot: LiveViewSnapshot) { latest.withLock { $0 = snapshot } }

    /// Keeps the images and measurement, records why the newest frame failed.
    public func fail(_ message: String) { latest.withLock { $0?.error = message } }

    public var snapshot: LiveViewSnapshot? { latest.withLock { $0 } }
}

/// The live-view page on a loopback port: both cameras' views, the difference overlay and the measured offsets,
/// refreshed as new frames arrive. Loopback only (no token: the cameras are on this machine and nobody else
/// should watch or load them); the Host check keeps pages of other sites from reading it through DNS rebinding.
public struct LiveViewServer: Sendable {
    public let port: Int
    let feed: LiveViewFeed

    public static let host = "127.0.0.1"

    public init(feed: LiveViewFeed, port: Int = 8418) {
        self.feed = feed
        self.port = port
    }

    /// Serves until `until` returns or, with `stopOnSignals`, SIGINT or SIGTERM arrives (then it finishes the
    /// requests in flight and stops), or the task is cancelled. `onStart` gets the page's address (with the real
    /// port when `port` is 0).
    public func run(stopOnSignals: Bool = false, logger: Logger? = nil,
                    until stop: @escaping @Sendable () async -> Void = { await GracefulRun.never() },
                    onStart: @escaping @Sendable (String) async -> Void) async throws {
        var log = logger ?? Logger(label: "rigctl.liveview")
        if logger == nil { log.logLevel = .warning }
        let boundPort = BoundPort()
        let port = self.port
        let app = Application(
            router: LiveViewRoutes.router(feed: feed, boundPort: boundPort),
            server: ConnectionLimits().server,
            configuration: .init(address: .hostname(Self.host, port: port), serverName: nil,
                                 availableConnectionsDelegate: ConnectionLimits().connectionsDelegate),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                boundPort.set(bound)
                await onStart("http://\(Self.host):\(bound)/")
            },
            logger: log)
        try await GracefulRun.run(app, stopOnSignals: stopOnSignals, logger: log, until: stop)
    }
}

/// GET only, behind the same `AccessMiddleware` as the review server: the page, its script and the review
/// stylesheet, the newest measurement, the newest images.
enum LiveViewRoutes {
    static func router(feed: LiveViewFeed, boundPort: BoundPort) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: AccessMiddleware(bindHost: LiveViewServer.host, token: nil, boundPort: boundPort))
        router.route("/", [.get]) { _, _ in Responses.html(LiveViewPage.page(feed.snapshot)) }
        router.pageAssets("liveview", css: LiveViewPage.css, script: LiveViewPage.script)
        router.route("/api/liveview", [.get]) { _, _ in
            guard let s = feed.snapshot else { throw HTTPFailure(status: .serviceUnavailable, message: "no frame yet") }
            return Responses.data(LiveViewPage.json(s), type: "application/json; charset=utf-8",
                                  headers: [.cacheControl: "no-store"])
        }
        for (path, views) in [("/liveview/views.jpg", true), ("/liveview/difference.jpg", false)] {
            router.route(path, [.get]) { _, _ in
                guard let s = feed.snapshot else { throw HTTPFailure(status: .serviceUnavailable, message: "no frame yet") }
                return Responses.data(views ? s.views : s.difference, type: "image/jpeg", headers: [.cacheControl: "no-store"])
            }
        }
        return router
    }
}

/// The page and its script. The server renders the newest frame's figures; the script then polls
/// `/api/liveview` and swaps in new images and figures as frames arrive.
enum LiveViewPage {
    /// `{"frame": N, "error": ..., "measurement": {...}}`, the measurement as the producer encoded it.
    static func json(_ s: LiveViewSnapshot) -> Data {
        var out = Data("{\"frame\":\(s.frame),\"error\":".utf8)
        out += (try? Responses.jsonEncoder.encode(s.error)) ?? Data("null".utf8)
        out += Data(",\"measurement\":".utf8)
        out += s.measurement.isEmpty ? Data("null".utf8) : s.measurement
        out += Data("}".utf8)
        return out
    }

    /// The figures shown, by their key in the measurement and how they are written.
    static let figures: [(key: String, label: String, format: String)] = [
        ("shiftX", "shift x (px)", "%+.2f"), ("shiftY", "shift y (px)", "%+.2f"),
        ("rotationDegrees", "rotation (degrees)", "%+.3f"), ("scale", "scale", "%.4f"),
        ("correlation", "registration correlation", "%.3f"),
        ("shallowSharpness", "sharpness, shallow", "%.4f"), ("deepSharpness", "sharpness, deep", "%.4f"),
        ("sharpnessRatio", "sharpness ratio, shallow / deep", "%.3f"),
    ]

    static func page(_ snapshot: LiveViewSnapshot?) -> String {
        let measurement = snapshot.flatMap { try? JSONSerialization.jsonObject(with: $0.measurement) as? [String: Any] } ?? [:]
        let rows = figures.map { f -> String in
            let number = (measurement[f.key] as? Double) ?? (measurement[f.key] as? Int).map(Double.init)
            let value = number.map { String(format: f.format, $0) } ?? "–"
            return "<tr><th>\(HTML.escape(f.label))</th><td id=\"f-\(f.key)\">\(HTML.escape(value))</td></tr>"
        }.joined()
        let frame = snapshot.map { "\($0.frame)" } ?? "–"
        let checkerboard = snapshot?.overlay == .checkerboard
        let error = snapshot?.error.map { HTML.escape($0) } ?? ""
        let body = """
            <header><h1>rigctl live view</h1><span>frame <b id="frame">\(frame)</b></span>\
            <span class="badge" id="error"\(error.isEmpty ? " hidden" : "")>\(error)</span></header>
            <main id="liveview">
            <figure class="live"><img id="views" src="/liveview/views.jpg?frame=\(frame)" alt="shallow and deep live views side by side">\
            <figcaption>shallow (left) and deep, mirror undone</figcaption></figure>
            <figure class="live"><img id="difference" src="/liveview/difference.jpg?frame=\(frame)" alt="\(checkerboard ? "checkerboard of the two views" : "difference of the two views")">\
            <figcaption>\(checkerboard ? "squares taken alternately from the shallow and the deep view: an edge that does not line up breaks at their borders" : "|shallow − deep| × 4: edges that do not line up show as bright fringes")</figcaption></figure>
            <aside><table class="figures">\(rows)</table>
            <p>Shift: where the shallow view's centre lands in the deep view. Sharpness: mean squared Laplacian of the \
            luminance over its variance, in the central half of each view; the ratio is below 1 where the shallow \
            camera's narrow depth of field blurs the scene, and peaks when it is focused on the subject.</p></aside>
            </main>
            """
        // The review stylesheet, then this page's own few rules.
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>rigctl live view</title>
            <link rel="stylesheet" href="/static/review.css">
            <link rel="stylesheet" href="/static/liveview.css">
            </head><body>
            \(body)
            <script src="/static/liveview.js"></script>
            </body></html>
            """
    }

    static let css = """
        #liveview { display: flex; flex-wrap: wrap; gap: 1em; padding: 1em; align-items: flex-start; }
        figure.live { margin: 0; flex: 1 1 40em; max-width: 100%; }
        figure.live img { width: 100%; height: auto; border: 1px solid var(--line); background: #808080; }
        figure.live figcaption { color: var(--muted); }
        #liveview aside { flex: 0 1 24em; padding: 0; }
        """

    static let script = #"""
    "use strict";
    (function () {
      const formats = {
        shiftX: [2, true], shiftY: [2, true], rotationDegrees: [3, true], scale: [4, false], correlation: [3, false],
        shallowSharpness: [4, false], deepSharpness: [4, false], sharpnessRatio: [3, false]
      };
      let shown = document.getElementById("frame").textContent;
      function show(data) {
        const error = document.getElementById("error");
        error.hidden = !data.error;
        error.textContent = data.error || "";
        if (String(data.frame) === shown) return;
        shown = String(data.frame);
        document.getElementById("frame").textContent = shown;
        document.getElementById("views").src = "/liveview/views.jpg?frame=" + shown;
        document.getElementById("difference").src = "/liveview/difference.jpg?frame=" + shown;
        const m = data.measurement || {};
        Object.keys(formats).forEach(function (key) {
          const cell = document.getElementById("f-" + key);
          if (!cell || typeof m[key] !== "number") return;
          const [digits, signed] = formats[key];
          cell.textContent = (signed && m[key] >= 0 ? "+" : "") + m[key].toFixed(digits);
        });
      }
      function poll() {
        fetch("/api/liveview", { cache: "no-store" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) { if (data) show(data); })
          .catch(function () {})
          .finally(function () { setTimeout(poll, 500); });
      }
      setTimeout(poll, 500);
    })();
    """#
}
