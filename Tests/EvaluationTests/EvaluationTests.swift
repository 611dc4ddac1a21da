import TestSupport
import Foundation
import PairVocabulary
import Imaging
import Testing
import Evaluation


func grey(_ v: Float, width: Int, height: Int) -> RGBImage {
    RGBImage(width: width, height: height, pixels: [Float](repeating: v, count: 3 * width * height))
}

func writePNG(_ image: RGBImage, _ url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try PNGFile.write(image, to: url, bitDepth: 8)
}

@Suite struct PairFolderTests {
    @Test func matchesByNameNotOrder() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try writePNG(grey(0.2, width: 8, height: 8), root.appendingPathComponent("source/b.png"))
        try writePNG(grey(0.3, width: 8, height: 8), root.appendingPathComponent("source/a.png"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("target"), withIntermediateDirectories: true)
        try JPEGFile.encode(grey(0.4, width: 8, height: 8).raster8()).write(to: root.appendingPathComponent("target/a.jpg"))
        try writePNG(grey(0.5, width: 8, height: 8), root.appendingPathComponent("target/b.png"))
        let pairs = try PairFolder.pairs(in: root)
        #expect(pairs.map(\.name) == ["a", "b"])
        #expect(pairs[0].target.lastPathComponent == "a.jpg")
        #expect(PairLayout.detect(root) == .realdof)
    }

    @Test func mismatchIsAnErrorListingTheFiles() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        for name in ["1", "2", "3"] { try writePNG(grey(0.2, width: 8, height: 8), root.appendingPathComponent("test_c/source/\(name).png")) }
        for name in ["1", "3", "4"] { try writePNG(grey(0.2, width: 8, height: 8), root.appendingPathComponent("test_c/target/\(name).png")) }
        #expect(PairLayout.detect(root) == .dpdd)
        do {
            _ = try PairFolder.pairs(in: root)
            Issue.record("mismatched folder accepted")
        } catch let PairFolderError.unmatched(_, sourceOnly, targetOnly) {
            #expect(sourceOnly == ["2"])
            #expect(targetOnly == ["4"])
        }
        #expect(throws: PairFolderError.self) { try PairFolder.pairs(in: root.appendingPathComponent("test_c/source")) }
    }
}

@Suite struct EvaluatorTests {
    /// A 29x21 pair: the paper's protocol crops it to 24x16.
    func makeSet() throws -> URL {
        let root = try makeTemporaryDirectory()
        try writePNG(grey(0.2, width: 29, height: 21), root.appendingPathComponent("source/p1.png"))
        try writePNG(grey(0.4, width: 29, height: 21), root.appendingPathComponent("target/p1.png"))
        try writePNG(grey(0.6, width: 29, height: 21), root.appendingPathComponent("source/p2.png"))
        try writePNG(grey(0.6, width: 29, height: 21), root.appendingPathComponent("target/p2.png"))
        return root
    }

    @Test func inputAndResultsFolderRows() throws {
        let root = try makeSet()
        defer { try? FileManager.default.removeItem(at: root) }
        // A results folder with full-size outputs: they are cropped like the pair.
        try writePNG(grey(0.4, width: 29, height: 21), root.appendingPathComponent("results/p1.png"))
        try writePNG(grey(0.5, width: 29, height: 21), root.appendingPathComponent("results/p2.png"))
        let methods: [any RestorationMethod] = [InputMethod(), ResultsFolderMethod(name: "Other", folder: root.appendingPathComponent("results"))]
        var seen: [String] = []
        let report = try Evaluator(methods: methods, lpips: nil).run(pairs: try PairFolder.pairs(in: root), observe: { scored in
            #expect(scored.input.width == 24 && scored.input.height == 16)
            seen.append(scored.pair.name)
        })
        #expect(seen == ["p1", "p2"])
        #expect(report.croppedToMultipleOf8)
        #expect(report.results.count == 4)
        let input = report.methods[0], other = report.methods[1]
        #expect(input.name == "Input" && input.pairs == 2)
        // MAE: pair 1 off by 51/255 (0.2 vs 0.4 in 8-bit), pair 2 exact.
        #expect(abs(input.mae - (Double(102 - 51) / 255) / 2) < 1e-6)
        #expect(abs(other.mae - (Double(128 - 153).magnitude / 255) / 2) < 1e-6)
        #expect(input.lpips == nil)
    }

    @Test func missingOrSmallOutputsAreErrors() throws {
        let root = try makeSet()
        defer { try? FileManager.default.removeItem(at: root) }
        try writePNG(grey(0.4, width: 29, height: 21), root.appendingPathComponent("results/p1.png"))
        let method = ResultsFolderMethod(name: "Partial", folder: root.appendingPathComponent("results"))
        let missing = #expect(throws: PairFailure.self) {
            try Evaluator(methods: [method], lpips: nil).run(pairs: try PairFolder.pairs(in: root))
        }
        #expect(missing?.pair == "p2" && missing?.stage == .restoring(method: "Partial"))
        #expect(missing?.underlying as? ResultsFolderError
                == .missingOutput(method: "Partial", folder: root.appendingPathComponent("results").path, pair: "p2"))
        try writePNG(grey(0.4, width: 9, height: 9), root.appendingPathComponent("small/p1.png"))
        try writePNG(grey(0.4, width: 9, height: 9), root.appendingPathComponent("small/p2.png"))
        let small = #expect(throws: PairFailure.self) {
            try Evaluator(methods: [ResultsFolderMethod(name: "S", folder: root.appendingPathComponent("small"))],
                          lpips: nil).run(pairs: try PairFolder.pairs(in: root))
        }
        #expect(small?.underlying is ResultsFolderError)
    }
}

@Suite struct ResultsTableTests {
    let rows = [
        MethodSummary(name: "Input", pairs: 50, psnr: 22.333, ssim: 0.6333, ssimGaussian: 0.61, mae: 0.05546, lpips: 0.524,
                      complexity: nil, secondsPerImage: 0.0001),
        MethodSummary(name: "IFAN_{ours}, \"8\" & co", pairs: 50, psnr: 24.712, ssim: 0.7488, ssimGaussian: 0.73, mae: 0.04228,
                      lpips: 0.306, complexity: ModelCost(parameters: 10_476_996, macs: 362_900_000_000), secondsPerImage: 2.5),
    ]

    @Test func everyFormat() throws {
        let table = ResultsTable(rows: rows)
        let text = try table.render(.text)
        #expect(text.contains("Model") && text.contains("24.71") && text.contains("0.423") && text.contains("10.48") && text.contains("362.9"))
        let md = try table.render(.markdown)
        #expect(md.hasPrefix("| Model | PSNR↑"))
        #expect(md.split(separator: "\n").count == 4)
        let csv = try table.render(.csv)
        #expect(csv.contains("\"IFAN_{ours}, \"\"8\"\" & co\",50,24.712,0.7488,0.73,0.04228,0.306,10476996,362900000000,2.5"))
        let latex = try table.render(.latex)
        #expect(latex.contains("IFAN\\_\\{ours\\}, \"8\" \\& co & 24.71 & 0.749 & 0.423 & 0.306 & 10.48 & 362.9 & 2.500 \\\\"))
        let json = try table.render(.json)
        let decoded = try JSONDecoder().decode([MethodSummary].self, from: Data(json.utf8))
        #expect(decoded == rows)
    }
}

@Suite struct HTMLReportTests {
    @Test func writesAFolderThatOpensFromDisk() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var img = grey(0.3, width: 96, height: 80)
        for y in 0..<80 { for x in 0..<96 where (x / 4 + y / 4) % 2 == 0 { img[0, x, y] = 0.9 } }
        try writePNG(img, root.appendingPathComponent("set/source/<odd & name>.png"))
        try writePNG(grey(0.5, width: 96, height: 80), root.appendingPathComponent("set/target/<odd & name>.png"))
        let writer = try HTMLReportWriter(folder: root.appendingPathComponent("report"))
        let report = try Evaluator(methods: [InputMethod()], lpips: nil)
            .run(pairs: try PairFolder.pairs(in: root.appendingPathComponent("set")), observe: writer.add)
        try writer.finish(report)
        let html = try String(contentsOf: root.appendingPathComponent("report/index.html"), encoding: .utf8)
        #expect(html.contains("&lt;odd &amp; name&gt;"))
        #expect(html.contains("95 % intervals (bootstrap over scenes): Input: one scene, no interval"),
                "every row's interval is on the page (here one pair, so one scene: none)")
        #expect(!html.contains("By protocol"), "one protocol, no side-by-side table")
        // Another protocol's report beside it: one table, a PSNR and SSIM column per protocol.
        let whole = try Evaluator(methods: [InputMethod()], protocol: .dpdd, lpips: nil)
            .run(pairs: try PairFolder.pairs(in: root.appendingPathComponent("set")))
        try writer.finish(report, others: [whole])
        let both = try String(contentsOf: root.appendingPathComponent("report/index.html"), encoding: .utf8)
        #expect(both.contains("<h2>By protocol</h2>") && both.contains("ifan PSNR") && both.contains("dpdd PSNR"))
        #expect(!html.contains("<odd"))
        #expect(html.contains("class=\"sortable\""))
        for file in ["input.jpg", "input-crop.png", "error-input.jpg", "target.jpg", "target-crop.png", "full-input.png",
                     "full-target.png"] {
            let url = root.appendingPathComponent("report/pairs/0001/\(file)")
            #expect(FileManager.default.fileExists(atPath: url.path), "\(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("report/pairs/0001/output-0.jpg").path),
                "the input row is shown once, with the input")
        let crop = try PNGFile.read(root.appendingPathComponent("report/pairs/0001/input-crop.png"))
        #expect(crop.width == 256)
        let json = try Data(contentsOf: root.appendingPathComponent("report/report.json"))
        #expect(try JSONDecoder().decode(EvaluationReport.self, from: json) == report)
    }
}

@Suite struct PublishableReportTests {
    /// A pair with a checkered region (the most detailed place), scored for the input and a closer "Other" method.
    func makeReport(in root: URL) throws -> (EvaluationReport, String) {
        var img = grey(0.5, width: 96, height: 80)
        for y in 40..<80 { for x in 48..<96 where (x / 4 + y / 4) % 2 == 0 { img[0, x, y] = 0.9 } }
        try writePNG(grey(0.3, width: 96, height: 80), root.appendingPathComponent("set/source/p1.png"))
        try writePNG(img, root.appendingPathComponent("set/target/p1.png"))
        try writePNG(grey(0.45, width: 96, height: 80), root.appendingPathComponent("other/p1.png"))
        let writer = try HTMLReportWriter(folder: root.appendingPathComponent("report"), title: "bench")
        writer.context = ReportContext(date: Date(timeIntervalSince1970: 1_767_225_600), version: "rigctl 9.9.9 (test)",
                                       dataset: "bench", split: "test", weights: ["Other": String(repeating: "ab", count: 32)],
                                       pairs: ["p1": .init(scene: "desk <1>", split: "test")])
        let methods: [any RestorationMethod] = [
            InputMethod(),
            ResultsFolderMethod(name: "Other", folder: root.appendingPathComponent("other"),
                                complexity: ModelCost(parameters: 10_476_996, macs: 362_900_000_000)),
        ]
        let report = try Evaluator(methods: methods, lpips: nil)
            .run(pairs: try PairFolder.pairs(in: root.appendingPathComponent("set")), observe: writer.add)
        try writer.finish(report)
        return (report, try String(contentsOf: root.appendingPathComponent("report/index.html"), encoding: .utf8))
    }

    @Test func headerColumnsFullResolutionAndHighlights() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (_, html) = try makeReport(in: root)
        #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        // The header.
        for item in ["<dt>Date</dt><dd>2026-01-01T00:00:00Z</dd>", "<dt>rigctl</dt><dd>rigctl 9.9.9 (test)</dd>",
                     "<dt>Dataset</dt><dd>bench</dd>", "<dt>Split</dt><dd>test</dd>", "<dt>Pairs</dt><dd>1</dd>",
                     "<dt>Weights: Other</dt><dd><code title=\"SHA-256 \(String(repeating: "ab", count: 32))\">sha256:abababababababab</code></dd>",
                     "<dt>Weights: Input</dt><dd>the defocused input itself</dd>"] {
            #expect(html.contains(item), "\(item)")
        }
        #expect(html.contains("<dt>Protocol</dt><dd>images cropped bottom/right to multiples of 8"))
        // MACs with the image size they were counted at.
        #expect(html.contains("<th>MACs (G) at 1280×720</th>"))
        #expect(html.contains("<td>362.9</td>"))
        // Column headings above the pictures, in order; each picture links to its full-resolution file.
        let headings = ["<h4>Input</h4>", "<h4>Other</h4>", "<h4>Ground truth</h4>"].map { html.range(of: $0)?.lowerBound }
        #expect(headings.allSatisfy { $0 != nil } && headings[0]! < headings[1]! && headings[1]! < headings[2]!)
        #expect(html.contains("style=\"--columns:3\""))
        for name in ["input", "output-1", "target"] {
            let full = try PNGFile.read(root.appendingPathComponent("report/pairs/0001/full-\(name).png"))
            #expect(full.width == 96 && full.height == 80, "\(name)")
        }
        // Heat-maps are previews only; previews are JPEGs.
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("report/pairs/0001/full-error-1.png").path))
        let preview = try JPEGFile.read(root.appendingPathComponent("report/pairs/0001/error-1.jpg"))
        #expect(preview.width == 96 && preview.height == 80)
        #expect(html.contains("<a class=\"shot\" href=\"pairs/0001/full-output-1.png\""))
        // The zoom crop marked on the picture: 64 px of the 96x80 target at (32, 0), the window of the coarse grid
        // that covers most of the checkered bottom-right quarter.
        #expect(html.contains("<span class=\"zoom-mark\" style=\"left:33.333%;top:0.000%;width:66.667%;height:80.000%\"></span>"),
                "\(html.components(separatedBy: "zoom-mark").dropFirst().first?.prefix(90) ?? "")")
        // Per pair: scene, split and MAE; the better method's values are highlighted, in the summary too.
        #expect(html.contains("<th>Pair</th><th>Scene</th><th>Split</th><th>Input PSNR</th><th>Input SSIM</th><th>Input MAE ×10⁻¹</th>"))
        #expect(html.contains("<td class=\"text\">desk &lt;1&gt;</td><td class=\"text\">test</td>"))
        let perPair = try #require(html.components(separatedBy: "id=\"pairs\"").last)
        let cells = perPair.components(separatedBy: "<td").dropFirst().prefix(11).map { String($0) }
        #expect(!cells[3].hasPrefix(" class=\"best\"") && cells[7].hasPrefix(" class=\"best\""), "PSNR: \(cells[3]) vs \(cells[7])")
        #expect(cells[9].hasPrefix(" class=\"best\""), "MAE: \(cells[9])")
        let summary = try #require(html.components(separatedBy: "id=\"summary\"").dropFirst().first?.components(separatedBy: "</table>").first)
        #expect(summary.components(separatedBy: "class=\"best\"").count - 1 == 4, "PSNR, SSIM, SSIM (Gaussian) and MAE of Other")
        // The A/B flip has both pictures to flip between.
        #expect(html.contains("data-a=\"pairs/0001/output-1.jpg\" data-b=\"pairs/0001/target.jpg\""))
        #expect(html.contains("<button type=\"button\" class=\"flip\""))
        // Tables scroll on their own on a narrow screen.
        #expect(html.contains("<div class=\"scroll\"><table class=\"sortable\" id=\"pairs\">"))
    }
}

@Suite struct PerfectOutputTests {
    @Test func infinitePSNRSurvivesJSONAndTables() throws {
        let row = MethodSummary(name: "Oracle", pairs: 1, psnr: .infinity, ssim: 1, ssimGaussian: 1, mae: 0, lpips: 0,
                                complexity: nil, secondsPerImage: 0)
        let json = try ResultsTable(rows: [row]).render(.json)
        #expect(json.contains("\"psnr\" : null"))
        #expect(try JSONDecoder().decode([MethodSummary].self, from: Data(json.utf8)) == [row])
        #expect(try ResultsTable(rows: [row]).render(.text).contains("inf"))
    }
}

@Suite struct LightReportTests {
    /// The page's pictures are compressed previews: for a 1600x1200 pair of fine texture (the worst case for
    /// compression), what the page loads stays small while the full-resolution files beside it are lossless.
    @Test func previewsStaySmallBesideLosslessFullFiles() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let target = RGBImage(width: 1600, height: 1200, pixels: (0..<(1600 * 1200 * 3)).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Float(state % 1000) / 1000
        })
        try writePNG(grey(0.4, width: 1600, height: 1200), root.appendingPathComponent("set/source/p.png"))
        try writePNG(target, root.appendingPathComponent("set/target/p.png"))
        let writer = try HTMLReportWriter(folder: root.appendingPathComponent("report"))
        let report = try Evaluator(methods: [InputMethod()], lpips: nil)
            .run(pairs: try PairFolder.pairs(in: root.appendingPathComponent("set")), observe: writer.add)
        try writer.finish(report)
        let folder = root.appendingPathComponent("report/pairs/0001")
        var page = 0, full = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let size = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.size] as? Int ?? 0
            if name.hasPrefix("full-") { full += size } else { page += size }
        }
        #expect(page < 700_000, "the page loads \(page) bytes for one pair")
        #expect(full > 4 * page, "full \(full), page \(page)")
        let restored = try PNGFile.read(folder.appendingPathComponent("full-target.png"))
        #expect(restored.width == 1600 && restored.height == 1200)
    }
}
