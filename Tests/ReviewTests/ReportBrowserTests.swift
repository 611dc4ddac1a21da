import Evaluation
import Foundation
import Imaging
import TestSupport
import Testing

/// The static evaluation report (`evaluate --report`) opened from disk in headless Chromium, at a desktop, a
/// tablet and a phone width: figures side by side down to 960 px and wrapped below, tables that scroll on their
/// own, the zoom crop marked in place, the A/B flip and the click-through to full resolution.
@Suite struct ReportBrowserTests {
    static let chromium = BrowserTests.chromium

    /// A one-pair report of the input and one other method, written by the report writer the command uses.
    func writeReport(in root: URL) throws -> URL {
        func grey(_ v: Float) -> RGBImage { RGBImage(width: 96, height: 80, pixels: [Float](repeating: v, count: 3 * 96 * 80)) }
        var target = grey(0.5)
        for y in 40..<80 { for x in 48..<96 where (x / 4 + y / 4) % 2 == 0 { target[0, x, y] = 0.9 } }
        for (image, path) in [(grey(0.3), "set/source/p1.png"), (target, "set/target/p1.png"), (grey(0.45), "other/p1.png")] {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try PNGFile.write(image, to: url)
        }
        let writer = try HTMLReportWriter(folder: root.appendingPathComponent("report"), title: "bench")
        writer.context = ReportContext(version: "rigctl test", dataset: "bench", split: "test",
                                       pairs: ["p1": .init(scene: "desk", split: "test")])
        let methods: [any RestorationMethod] = [InputMethod(), ResultsFolderMethod(name: "Other", folder: root.appendingPathComponent("other"))]
        let report = try Evaluator(methods: methods, lpips: nil)
            .run(pairs: try PairFolder.pairs(in: root.appendingPathComponent("set")), observe: writer.add)
        try writer.finish(report)
        return root.appendingPathComponent("report/index.html")
    }

    /// The figures of the first pair: [left, top, width] each.
    func figures(_ page: BrowserPage) async throws -> [[Double]] {
        let value = try await page.evaluate("""
            Array.from(document.querySelectorAll('#pair-0001 figure')).map(function (f) {
              const r = f.getBoundingClientRect(); return [r.left, r.top, r.width]; })
            """)
        return (value as? [[NSNumber]] ?? []).map { $0.map(\.doubleValue) }
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser tests"))
    func theReportUsesTheWindowFlipsAndLinksToFullResolution() async throws {
        let browser = try #require(Self.chromium)
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let index = try writeReport(in: root)
        let devtools = try DevTools(executable: browser, profile: root.appendingPathComponent("profile"))
        var failure: Error?
        do {
            let page = try await devtools.newPage(width: 1280, height: 900)
            try await page.open(index.absoluteString)
            try await page.waitFor("Array.from(document.querySelectorAll('#pair-0001 img')).every(function (i) { return i.complete && i.naturalWidth > 0; })")
            // Desktop and down to 960 px: the three columns side by side, sharing the window's width.
            for width in [1280, 1000, 960] {
                try await page.resize(width: width, height: 900)
                try await page.waitFor("window.innerWidth === \(width)")
                let f = try await figures(page)
                #expect(f.count == 3)
                #expect(Set(f.map { $0[1] }).count == 1, "\(width) px: one row, tops \(f.map { $0[1] })")
                #expect(f[0][0] < f[1][0] && f[1][0] < f[2][0])
                #expect(f.map { $0[2] }.reduce(0, +) > Double(width) * 0.8, "\(width) px: figures \(f.map { $0[2] }) use the width")
                // Column headings above the pictures.
                #expect(try await page.evaluate("""
                    Array.from(document.querySelectorAll('#pair-0001 figure')).every(function (f) {
                      return f.querySelector('h4').getBoundingClientRect().bottom <= f.querySelector('img').getBoundingClientRect().top; })
                    """) as? Bool == true)
            }
            // A tablet: wrapped, two to a row.
            try await page.resize(width: 700, height: 900)
            try await page.waitFor("window.innerWidth === 700")
            let wrapped = try await figures(page)
            #expect(wrapped[0][1] == wrapped[1][1] && wrapped[2][1] > wrapped[0][1], "\(wrapped)")
            if let shots = ProcessInfo.processInfo.environment["RIGCTL_REVIEW_SCREENSHOTS"] {
                try await page.screenshot(to: "\(shots)/report-narrow.png")
            }
            // A phone: the page does not scroll sideways, the per-pair table does.
            try await page.resize(width: 360, height: 740)
            try await page.waitFor("window.innerWidth === 360")
            #expect(try await page.number("document.documentElement.scrollWidth") <= 360)
            let table = "document.getElementById('pairs').parentElement"
            #expect(try await page.number("\(table).scrollWidth") > (try await page.number("\(table).clientWidth")))
            #expect(try await page.string("getComputedStyle(\(table)).overflowX") == "auto")

            try await page.resize(width: 1280, height: 900)
            try await page.waitFor("window.innerWidth === 1280")
            if let shots = ProcessInfo.processInfo.environment["RIGCTL_REVIEW_SCREENSHOTS"] {
                try await page.screenshot(to: "\(shots)/report-wide.png")
            }
            // The zoom crop's mark sits where the crop was taken: (32, 0), 64 px, on the 96x80 picture.
            let geometry = try await page.evaluate("""
                (function () { const f = document.querySelectorAll('#pair-0001 figure')[1];
                  const i = f.querySelector('a.shot img').getBoundingClientRect(), m = f.querySelector('.zoom-mark').getBoundingClientRect();
                  return [(m.left - i.left) / i.width, (m.top - i.top) / i.height, m.width / i.width, m.height / i.height]; })()
                """) as? [NSNumber]
            let g = try #require(geometry).map(\.doubleValue)
            #expect(abs(g[0] - 32.0 / 96) < 0.01 && abs(g[1]) < 0.01 && abs(g[2] - 64.0 / 96) < 0.01 && abs(g[3] - 64.0 / 80) < 0.01, "\(g)")

            // A/B: every picture of the pair flips to the ground truth, and back.
            let flip = try await page.centre(of: "#pair-0001 button.flip")
            try await page.click(x: flip.0, y: flip.1)
            try await page.waitFor("document.getElementById('pair-0001').classList.contains('flipped')")
            #expect(try await page.evaluate("Array.from(document.querySelectorAll('#pair-0001 a.shot img')).every(function (i) { return i.src.endsWith('/target.jpg'); })") as? Bool == true)
            #expect(try await page.evaluate("Array.from(document.querySelectorAll('#pair-0001 img.crop')).every(function (i) { return i.src.endsWith('/target-crop.png'); })") as? Bool == true)
            try await page.click(x: flip.0, y: flip.1)
            try await page.waitFor("!document.getElementById('pair-0001').classList.contains('flipped')")
            #expect(try await page.string("document.querySelectorAll('#pair-0001 a.shot img')[1].src").hasSuffix("/output-1.jpg"))

            // A click on a picture opens it at full resolution.
            let shot = try await page.centre(of: "#pair-0001 figure:nth-child(2) a.shot img")
            try await page.click(x: shot.0, y: shot.1)
            try await page.waitFor("location.href.endsWith('/pairs/0001/full-output-1.png') && document.readyState === 'complete'")
            #expect(try await page.number("document.querySelector('img').naturalWidth") == 96)
        } catch {
            failure = error
        }
        await devtools.close()
        if let failure { throw failure }
    }
}
