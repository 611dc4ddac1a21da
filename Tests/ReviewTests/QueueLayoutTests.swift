import DatasetBuilder
import Foundation
import PairVocabulary
import Review
import TestSupport
import Testing

/// The queue of a catalogue with eleven quality figures and two models, in Chromium at 1400 and 420 px: verdict
/// and scores before the figures, no sideways scrolling, a thumbnail in every row, and a column chooser whose
/// choice outlives a reload.
@Suite(.serialized) struct QueueLayoutTests {
    static let figures = ["p95Shift", "correlation", "overlap", "maxShift", "medianShift", "inFocus", "clipped",
                          "measuredBlocks", "misalignedBlocks", "registrationCorrelation", "ecc"]

    /// The table's and each visible heading's width, for a failure message.
    static let widths = "(function () { const w = document.querySelector('.table-wrap'); return w.scrollWidth + ' in ' + w.clientWidth + ': ' + Array.from(document.querySelectorAll('table.queue thead th')).filter(function (t) { return t.offsetParent !== null; }).map(function (t) { return (t.dataset.col || 'pick') + '=' + Math.round(t.getBoundingClientRect().width); }).join(' '); })()"

    static func makeDataset(in dir: URL) throws -> (Dataset, [PairID]) {
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let input = try dataset.registerModel(ModelInput(name: "input", weights: nil))
        let other = try dataset.registerModel(ModelInput(name: "restormer-like baseline", weights: nil))
        var ids: [PairID] = []
        for i in 0..<12 {
            let item = try SyntheticCapture.make(index: i, seed: 5, in: dir.appendingPathComponent("scratch"), width: 96,
                                                 height: 64, scenes: 3)
            let capture = try dataset.ingestCapture(item.capture)
            var pair = item.pair(captureID: capture.id)
            pair.quality = QualityFigures(Dictionary(uniqueKeysWithValues: figures.enumerated().map { ($1, 0.123456 * Double(i + $0)) }))
            let added = try dataset.addPair(pair)
            ids.append(added.id)
            for model in [input, other] {
                try dataset.recordEvaluation(EvaluationInput(pairID: added.id, modelID: model.id, psnr: 27.123456 + Double(i),
                                                             ssim: 0.812345))
            }
        }
        return (dataset, ids)
    }

    @Test(.enabled(if: BrowserTests.chromium != nil, "chromium is not installed"))
    func verdictAndScoresFirstThumbnailsAndChosenColumnsAt1400And420() async throws {
        try await BrowserInteractionTests().withBrowser(dataset: Self.makeDataset) { session in
            let page = session.page
            try await page.resize(width: 1400, height: 900)
            let base = session.base + "/"
            try await page.open(base)
            // Verdict, review and the scores come before name, scene and the figures.
            let order = try await page.string("Array.from(document.querySelectorAll('table.queue thead th[data-col]')).filter(function (t) { return !t.hidden; }).map(function (t) { return t.dataset.col; }).join(' ')")
            #expect(order.hasPrefix("thumb id verdict review score.input.psnr"), "\(order)")
            #expect(order.contains("quality.p95Shift") && order.contains("quality.correlation") && !order.contains("quality.ecc"), "\(order)")
            // No sideways scrolling at 1400 px.
            let wrap = "document.querySelector('.table-wrap')"
            let wideWidths = try await page.string(Self.widths)
            #expect(try await page.number("\(wrap).scrollWidth - \(wrap).clientWidth") <= 1, "\(wideWidths)")
            // Every row's thumbnail arrives (two at a time; a 503 is retried).
            try await page.waitFor("Array.from(document.querySelectorAll('table.queue img[data-src]')).every(function (i) { return i.complete && i.naturalWidth > 0; })")
            #expect(try await page.number("document.querySelector('table.queue img[data-src]').naturalWidth") == 96)

            // Hide the scene, show the ecc figure; the choice outlives a reload.
            try await page.evaluate("document.querySelector('details.columns').open = true")
            try await page.evaluate("document.querySelector('details.columns input[data-col=\"scene\"]').click()")
            try await page.evaluate("document.querySelector('details.columns input[data-col=\"quality.ecc\"]').click()")
            #expect(try await page.evaluate("document.querySelector('th[data-col=\"scene\"]').hidden") as? Bool == true)
            try await page.open(base + "?sort=id")
            #expect(try await page.evaluate("document.querySelector('th[data-col=\"scene\"]').hidden") as? Bool == true)
            #expect(try await page.evaluate("document.querySelector('td[data-col=\"quality.ecc\"]').hidden") as? Bool == false)

            // A phone: no sideways scrolling of the page or the table; verdict and the first score still visible.
            try await page.resize(width: 420, height: 900)
            try await page.open(base)
            #expect(try await page.number("document.documentElement.scrollWidth") <= 420)
            let narrowWidths = try await page.string(Self.widths)
            #expect(try await page.number("\(wrap).scrollWidth - \(wrap).clientWidth") <= 1, "\(narrowWidths)")
            for column in ["verdict", "score.input.psnr", "thumb"] {
                #expect(try await page.evaluate("document.querySelector('td[data-col=\"\(column)\"]').offsetParent !== null") as? Bool == true,
                        "\(column) hidden at 420 px")
            }
            if let shots = ProcessInfo.processInfo.environment["RIGCTL_REVIEW_SCREENSHOTS"] {
                try await page.screenshot(to: "\(shots)/review-queue-narrow.png")
                try await page.resize(width: 1400, height: 700)
                try await page.open(base)
                try await page.waitFor("Array.from(document.querySelectorAll('table.queue img[data-src]')).every(function (i) { return i.complete && i.naturalWidth > 0; })")
                try await page.screenshot(to: "\(shots)/review-queue.png")
            }
        }
    }
}
