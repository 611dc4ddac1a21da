import AtomicFiles
import Foundation
import PairVocabulary
import Imaging
import Metrics

/// A static HTML report in one folder that opens from disk: the results table, per-pair scores sortable by any
/// column, and for each pair the input, each method's output and the ground truth side by side with error
/// heat-maps and zoomed crops of the most detailed region.
///
/// Pairs are added as they are scored (`add`), writing their pictures at once, so a long evaluation never holds
/// more than one pair's images; `finish` writes `index.html` and `report.json`.
public final class HTMLReportWriter {
    public let folder: URL
    public var title: String
    /// What the header says about the run, and the scene and split of each pair (by pair name).
    public var context = ReportContext()
    /// Longest side of the side-by-side pictures.
    public var thumbnailSide = 640
    /// JPEG quality of the page's previews (the full-resolution files are lossless PNGs).
    public var previewQuality = 85
    /// Side of the zoomed crop in source pixels, and its enlargement.
    public var cropSide = 64
    public var cropZoom = 4
    /// Mean absolute error that maps to the top of the heat-map's colour scale.
    public var heatMapMaximum: Float = 0.15

    private var sections: [String] = []
    private var methodNames: [String] = []

    public init(folder: URL, title: String = "rigctl evaluation") throws {
        self.folder = folder
        self.title = title
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("pairs"), withIntermediateDirectories: true)
    }

    public func add(_ scored: ScoredPair) throws {
        if methodNames.isEmpty { methodNames = scored.outputs.map(\.method) }
        let id = String(format: "%04d", scored.index + 1)
        let dir = folder.appendingPathComponent("pairs/\(id)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)

        let (cx, cy) = Self.mostDetailedRegion(scored.target, side: cropSide)
        let side = min(cropSide, scored.target.width, scored.target.height)
        let cropX = min(cx, scored.target.width - side), cropY = min(cy, scored.target.height - side)
        // Each picture at full resolution as a lossless PNG (the click-through) and as a JPEG preview for the page:
        // a report of 4 pairs at 1680x1120 was 44 MB when the previews were PNGs and the heat-maps full size too.
        func preview(_ display: RGBImage, _ name: String) throws -> String {
            let data = try JPEGFile.encode(display.downscaled(maxSide: thumbnailSide).raster8(), quality: previewQuality)
            try AtomicFile.write(data, to: dir.appendingPathComponent(name + ".jpg"))
            return "pairs/\(id)/\(name).jpg"
        }
        func save(_ image: RGBImage, _ name: String) throws -> (thumbnail: String, full: String) {
            let display = image.displayEncoded()
            try PNGFile.write(display, to: dir.appendingPathComponent("full-\(name).png"), bitDepth: 8, compressionLevel: 6)
            return (try preview(display, name), "pairs/\(id)/full-\(name).png")
        }
        func saveCrop(_ image: RGBImage, _ name: String) throws -> String {
            let crop = image.displayEncoded().cropped(x: cropX, y: cropY, width: side, height: side)
            try PNGFile.write(crop.enlargedNearest(by: cropZoom), to: dir.appendingPathComponent(name), bitDepth: 8,
                              compressionLevel: 3)
            return "pairs/\(id)/\(name)"
        }

        struct Figure {
            let caption: String
            let image: (thumbnail: String, full: String)
            let crop: String
            let heat: String?
        }
        var figures: [Figure] = []
        // The input row of the table is the input itself: its scores and heat-map go with the input picture.
        let inputIndex = scored.outputs.firstIndex { $0.method == InputMethod().name }
        figures.append(Figure(caption: "Input", image: try save(scored.input, "input"),
                              crop: try saveCrop(scored.input, "input-crop.png"),
                              heat: try inputIndex.map { _ in try preview(heatMap(scored.input, scored.target).displayEncoded(), "error-input") }))
        for (i, output) in scored.outputs.enumerated() where i != inputIndex {
            let heat = heatMap(output.image, scored.target)
            figures.append(Figure(caption: output.method, image: try save(output.image, "output-\(i)"),
                                  crop: try saveCrop(output.image, "output-\(i)-crop.png"),
                                  heat: try preview(heat.displayEncoded(), "error-\(i)")))
        }
        let truth = Figure(caption: "Ground truth", image: try save(scored.target, "target"),
                           crop: try saveCrop(scored.target, "target-crop.png"), heat: nil)
        figures.append(truth)

        // The zoom crop's place on the full picture, in percent, so that it scales with the picture.
        let w = Double(scored.target.width), h = Double(scored.target.height)
        let mark = String(format: "left:%.3f%%;top:%.3f%%;width:%.3f%%;height:%.3f%%",
                          100 * Double(cropX) / w, 100 * Double(cropY) / h, 100 * Double(side) / w, 100 * Double(side) / h)
        let info = context.pairs[scored.pair.name]
        var html = "<section id=\"pair-\(id)\"><h3>\(escape(scored.pair.name))"
        if let info { html += " <small>\(escape(info.scene)) · \(escape(info.split))</small>" }
        html += " <button type=\"button\" class=\"flip\" aria-pressed=\"false\">A/B: show ground truth</button></h3>"
        html += "<div class=\"row\" style=\"--columns:\(figures.count)\">"
        for f in figures {
            let score = scored.outputs.first { $0.method == f.caption }?.scores
            let scores = score.map { s in
                String(format: "%.2f dB · SSIM %.3f · MAE %.4f", s.psnr, s.ssim, s.mae) + (s.lpips.map { String(format: " · LPIPS %.3f", $0) } ?? "")
            } ?? (f.caption == truth.caption ? "reference" : "")
            html += "<figure><h4>\(escape(f.caption))</h4><p class=\"scores\">\(escape(scores))</p>"
            html += "<a class=\"shot\" href=\"\(f.image.full)\" title=\"full resolution\">"
            html += "<img loading=\"lazy\" src=\"\(f.image.thumbnail)\" data-a=\"\(f.image.thumbnail)\" data-b=\"\(truth.image.thumbnail)\" alt=\"\(escape(f.caption))\">"
            html += "<span class=\"zoom-mark\" style=\"\(mark)\"></span></a>"
            html += "<img class=\"crop\" loading=\"lazy\" src=\"\(f.crop)\" data-a=\"\(f.crop)\" data-b=\"\(truth.crop)\" alt=\"zoomed crop\">"
            if let heat = f.heat { html += "<img class=\"heat\" loading=\"lazy\" src=\"\(heat)\" alt=\"error heat-map\">" }
            html += "</figure>"
        }
        html += "</div></section>"
        sections.append(html)
        pairRows.append((id, scored.pair.name, scored.outputs.map(\.scores)))
    }

    private var pairRows: [(id: String, name: String, scores: [MetricReport])] = []

    /// Writes the page for `report` (whose pairs were added); `others` are the same methods under further
    /// protocols (`evaluate --protocol ifan,dpdd,realblur`), shown side by side with it in one table.
    public func finish(_ report: EvaluationReport, others: [EvaluationReport] = []) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report), to: folder.appendingPathComponent("report.json"))

        let pairCount = report.results.count / max(1, report.methods.count)
        var html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>
            *{box-sizing:border-box}
            body{font-family:system-ui,sans-serif;margin:0 auto;padding:16px 24px;color:#222;background:#fafafa;max-width:2400px}
            .scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
            table{border-collapse:collapse;margin:12px 0}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
            td:first-child,th:first-child{text-align:left}th{cursor:pointer;background:#eee;user-select:none}
            td.text{text-align:left}td.best{font-weight:700;background:#e3f2e1}
            th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
            dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0 16px}dl.meta dt{font-weight:600}dl.meta dd{margin:0;word-break:break-all}
            .row{display:grid;grid-template-columns:repeat(var(--columns),minmax(0,1fr));gap:10px;align-items:start}
            @media (max-width:959.98px){.row{grid-template-columns:repeat(auto-fill,minmax(min(100%,280px),1fr))}}
            figure{margin:0;min-width:0}figure h4{margin:0 0 2px;font-size:14px}p.scores{margin:0 0 4px;font-size:12px;color:#555;min-height:1.3em}
            a.shot{position:relative;display:block;margin-bottom:4px}a.shot img{margin-bottom:0}
            figure img{width:100%;display:block;margin-bottom:4px;image-rendering:auto}
            figure img.crop{image-rendering:pixelated}section{margin:28px 0}
            .zoom-mark{position:absolute;border:2px solid #ffeb3b;outline:1px solid #000;pointer-events:none}
            section.flipped figure img[data-b]{outline:3px solid #0b62d6}
            button.flip{font-size:12px;margin-left:8px;vertical-align:middle}
            .legend{height:12px;width:240px;background:linear-gradient(to right,#000004,#51127c,#b73779,#fc8961,#fcfdbf)}
            </style></head><body>
            <h1>\(escape(title))</h1>
            """
        html += metadataHTML(report, pairCount: pairCount)
        html += "<h2>Results</h2>"
        // MACs are counted at one image size; the heading says which.
        let sizes = Set(report.methods.compactMap { m in m.complexity.flatMap { $0.macs == nil ? nil : "\($0.macsWidth)×\($0.macsHeight)" } })
        let macsHeading = sizes.count == 1 ? "MACs (G) at \(sizes.first!)" : "MACs (G)"
        let summaryRows: [[Cell]] = report.methods.map { (m: MethodSummary) -> [Cell] in
            [.text(escape(m.name)), .number(m.psnr, 2), .number(m.ssim, 3), .number(m.ssimGaussian, 3),
             .number(m.mae * 10, 3), m.lpips.map { Cell.number($0, 3) } ?? Cell.missing,
             m.complexity?.parameters.map { Cell.number(Double($0) / 1e6, 2) } ?? Cell.missing,
             m.complexity.flatMap { (c: ModelCost) -> Cell? in c.gigaMACs.map { Cell.label(self.f($0, 1) + (sizes.count > 1 ? " at \(c.macsWidth)×\(c.macsHeight)" : "")) } } ?? Cell.missing,
             .number(m.secondsPerImage, 3)]
        }
        html += tableHTML(id: "summary", header: ["Model", "PSNR", "SSIM", "SSIM (Gaussian)", "MAE ×10⁻¹", "LPIPS", "Params (M)", macsHeading, "Time (s)"],
                          rows: Self.highlighted(summaryRows, better: [1: .higher, 2: .higher, 3: .higher, 4: .lower, 5: .lower]))
        if report.methods.contains(where: { $0.uncertainty != nil }) {
            html += "<p>95 % intervals (bootstrap over scenes): " + report.methods.compactMap { m in
                m.uncertainty.map { u in
                    !u.psnr.isKnown ? "\(escape(m.name)): one scene, no interval" :
                    "\(escape(m.name)) PSNR [\(f(u.psnr.low, 2)), \(f(u.psnr.high, 2))], SSIM [\(f(u.ssim.low, 3)), \(f(u.ssim.high, 3))]"
                        + (m.comparison.map { c in "; against \(escape(c.against)) \(c.psnr.difference >= 0 ? "+" : "")\(f(c.psnr.difference, 2)) dB, "
                            + (c.psnr.holds ? "holds" : "not shown") } ?? "")
                }
            }.joined(separator: " · ") + "</p>"
        }
        let protocols = [report] + others
        if protocols.count > 1 {
            html += "<h2>By protocol</h2><p>The same methods scored under each protocol (docs/metrics.md).</p>"
            var header = ["Model"]
            for p in protocols {
                let name = escape(p.scoreProtocol?.label ?? "?")
                header += ["\(name) PSNR", "\(name) SSIM"]
            }
            let rows: [[Cell]] = report.methods.map { m in
                var cells: [Cell] = [.text(escape(m.name))]
                for p in protocols {
                    let row = p.methods.first { $0.name == m.name }
                    cells += [row.map { Cell.number($0.psnr, 2) } ?? Cell.missing, row.map { Cell.number($0.ssim, 3) } ?? Cell.missing]
                }
                return cells
            }
            html += tableHTML(id: "protocols", header: header, rows: rows.map { $0.map { ($0, false) } })
        }
        html += "<h2>Per pair</h2><p>Click a column to sort; the best value of each measure in a row is highlighted.</p>"
        var header = ["Pair", "Scene", "Split"]
        for m in methodNames { header += ["\(m) PSNR", "\(m) SSIM", "\(m) MAE ×10⁻¹", "\(m) LPIPS"] }
        var better: [Int: Better] = [:]
        for (i, _) in methodNames.enumerated() {
            better[3 + 4 * i] = .higher; better[4 + 4 * i] = .higher; better[5 + 4 * i] = .lower; better[6 + 4 * i] = .lower
        }
        let perPair: [[Cell]] = pairRows.map { row -> [Cell] in
            let info = context.pairs[row.name]
            var cells: [Cell] = [.text("<a href=\"#pair-\(row.id)\">\(escape(row.name))</a>"),
                                 info.map { Cell.text(escape($0.scene)) } ?? Cell.missing, info.map { Cell.text(escape($0.split)) } ?? Cell.missing]
            for s in row.scores { cells += [.number(s.psnr, 2), .number(s.ssim, 4), .number(s.mae * 10, 4), s.lpips.map { Cell.number($0, 4) } ?? Cell.missing] }
            return cells
        }
        html += tableHTML(id: "pairs", header: header, rows: Self.highlightedAcross(perPair, groups: better, stride: 4, methods: methodNames.count))
        html += "<h2>Pairs</h2><p>Each column is one method, headed by its name and scores. Under each picture: a zoomed crop of the most detailed region (marked on the picture) and the error heat-map (mean absolute error, 0 <span class=\"legend\" style=\"display:inline-block\"></span> \(f(Double(heatMapMaximum), 2)) and above). Click a picture for full resolution; <b>A/B</b> flips every picture of a pair to the ground truth and back.</p>"
        html += sections.joined(separator: "\n")
        html += """
            <script>
            document.querySelectorAll('table.sortable').forEach(function(table){
              table.querySelectorAll('th').forEach(function(th,col){
                th.addEventListener('click',function(){
                  var asc=!th.classList.contains('sorted-asc');
                  table.querySelectorAll('th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc')});
                  th.classList.add(asc?'sorted-asc':'sorted-desc');
                  var body=table.tBodies[0];var rows=Array.from(body.rows);
                  rows.sort(function(a,b){var x=a.cells[col].textContent,y=b.cells[col].textContent;
                    var nx=parseFloat(x),ny=parseFloat(y);
                    var r=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny;return asc?r:-r;});
                  rows.forEach(function(r){body.appendChild(r)});
                });
              });
            });
            document.querySelectorAll('button.flip').forEach(function(button){
              button.addEventListener('click',function(){
                var section=button.closest('section');var b=!section.classList.contains('flipped');
                section.classList.toggle('flipped',b);button.setAttribute('aria-pressed',b?'true':'false');
                button.textContent=b?'A/B: showing ground truth':'A/B: show ground truth';
                section.querySelectorAll('img[data-b]').forEach(function(img){img.src=b?img.dataset.b:img.dataset.a});
              });
            });
            </script></body></html>
            """
        try AtomicFile.write(Data(html.utf8), to: folder.appendingPathComponent("index.html"))
    }

    /// The header: when, which rigctl, on what, how it was scored, and which weights each model ran with.
    private func metadataHTML(_ report: EvaluationReport, pairCount: Int) -> String {
        var items: [(String, String)] = []
        let date = ISO8601DateFormatter()
        date.formatOptions = [.withInternetDateTime]
        items.append(("Date", escape(date.string(from: context.date))))
        items.append(("rigctl", escape(context.version)))
        items.append(("Dataset", escape(context.dataset)))
        items.append(("Split", escape(context.split ?? "–")))
        items.append(("Pairs", "\(pairCount)"))
        var protocolText = report.croppedToMultipleOf8
            ? "images cropped bottom/right to multiples of 8, as in the IFAN paper's evaluation"
            : "whole images"
        protocolText += "; SSIM as the defocus papers compute it (7×7 uniform window, mean over RGB), SSIM (Gaussian) as "
            + "Wang et al. 2004 (11×11, σ 1.5); MAE ×10⁻¹; "
            + (report.methods.contains { $0.lpips != nil } ? "LPIPS (AlexNet)" : "LPIPS not installed, left out")
        items.append(("Protocol", escape(protocolText)))
        // The catalogue's protocol key (framing, bit depth, SSIM, LPIPS, release) that every stored score carries.
        if let key = report.scoreProtocol { items.append(("Score protocol", "<code>\(escape(key.description))</code>")) }
        for m in report.methods {
            let weights = context.weights[m.name].map { "<code title=\"SHA-256 \(escape($0))\">sha256:\(escape(String($0.prefix(16))))</code>" }
                ?? (m.name == InputMethod().name ? "the defocused input itself" : "no weights file")
            items.append(("Weights: " + escape(m.name), weights))
        }
        return "<dl class=\"meta\">" + items.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined() + "</dl>"
    }

    enum Cell {
        case number(Double, Int)
        case text(String)
        case label(String)
        case missing
        var value: Double? { if case .number(let v, _) = self, v.isFinite || v == .infinity { return v }; return nil }
    }

    enum Better { case higher, lower }

    /// Summary rows, with the best value of each scored column (down the rows) marked.
    static func highlighted(_ rows: [[Cell]], better: [Int: Better]) -> [[(Cell, Bool)]] {
        var marked = rows.map { $0.map { ($0, false) } }
        for (column, direction) in better {
            let values = rows.compactMap { $0.indices.contains(column) ? $0[column].value : nil }
            guard values.count > 1, let best = direction == .higher ? values.max() : values.min() else { continue }
            for r in rows.indices where rows[r].indices.contains(column) && rows[r][column].value == best { marked[r][column].1 = true }
        }
        return marked
    }

    /// Per-pair rows, with the best method of each measure (across the row) marked.
    static func highlightedAcross(_ rows: [[Cell]], groups better: [Int: Better], stride: Int, methods: Int) -> [[(Cell, Bool)]] {
        var marked = rows.map { $0.map { ($0, false) } }
        guard methods > 1 else { return marked }
        for r in rows.indices {
            for offset in 0..<stride {
                let columns = (0..<methods).map { 3 + offset + stride * $0 }.filter { rows[r].indices.contains($0) }
                guard let direction = better[columns.first ?? -1] else { continue }
                let values = columns.compactMap { rows[r][$0].value }
                guard values.count > 1, let best = direction == .higher ? values.max() : values.min() else { continue }
                for c in columns where rows[r][c].value == best { marked[r][c].1 = true }
            }
        }
        return marked
    }

    private func tableHTML(id: String, header: [String], rows: [[(Cell, Bool)]]) -> String {
        var html = "<div class=\"scroll\"><table class=\"sortable\" id=\"\(id)\"><thead><tr>"
        html += header.map { "<th>\(escape($0))</th>" }.joined()
        html += "</tr></thead><tbody>"
        for row in rows {
            html += "<tr>" + row.map { (item: (Cell, Bool)) -> String in
                let (cell, best) = item
                let text: String
                var classes: [String] = best ? ["best"] : []
                switch cell {
                case .number(let v, let digits): text = v.isFinite ? f(v, digits) : (v > 0 ? "∞" : "–")
                case .text(let t): text = t; classes.append("text")
                case .label(let t): text = escape(t)
                case .missing: text = "-"
                }
                return "<td\(classes.isEmpty ? "" : " class=\"\(classes.joined(separator: " "))\"")>\(text)</td>"
            }.joined() + "</tr>"
        }
        return html + "</tbody></table></div>"
    }

    private func f(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }

    /// Per-pixel mean absolute error over the channels, coloured from black (no error) to pale yellow.
    func heatMap(_ output: RGBImage, _ target: RGBImage) -> RGBImage {
        let stops: [[Float]] = [[0, 0, 0.016], [0.318, 0.071, 0.486], [0.718, 0.216, 0.475], [0.988, 0.537, 0.380], [0.988, 0.992, 0.749]]
        var heat = RGBImage(width: target.width, height: target.height, transfer: .display)
        let n = target.planeSize
        for i in 0..<n {
            var e: Float = 0
            for c in 0..<3 { e += abs(output.pixels[c * n + i] - target.pixels[c * n + i]) }
            let t = min(1, e / 3 / heatMapMaximum) * Float(stops.count - 1)
            let k = min(Int(t), stops.count - 2), u = t - Float(k)
            for c in 0..<3 { heat.pixels[c * n + i] = stops[k][c] * (1 - u) + stops[k + 1][c] * u }
        }
        return heat
    }

    /// The top-left corner of the `side` x `side` window with the most luma variance, on a coarse grid: where
    /// sharpness differences between methods show best.
    static func mostDetailedRegion(_ image: RGBImage, side: Int) -> (Int, Int) {
        guard image.width > side, image.height > side else { return (0, 0) }
        let step = max(side / 2, 8)
        var best = (0, 0), bestVariance = -1.0
        let n = image.planeSize
        var y = 0
        while y + side <= image.height {
            var x = 0
            while x + side <= image.width {
                var sum = 0.0, sum2 = 0.0
                var yy = y
                while yy < y + side {
                    var xx = x
                    while xx < x + side {
                        let i = yy * image.width + xx
                        let l = Double(0.299 * image.pixels[i] + 0.587 * image.pixels[n + i] + 0.114 * image.pixels[2 * n + i])
                        sum += l
                        sum2 += l * l
                        xx += 2
                    }
                    yy += 2
                }
                let count = Double((side / 2) * (side / 2))
                let variance = sum2 / count - (sum / count) * (sum / count)
                if variance > bestVariance { bestVariance = variance; best = (x, y) }
                x += step
            }
            y += step
        }
        return best
    }
}

/// What the report's header says about the run; the command fills it in.
public struct ReportContext: Sendable {
    public struct PairInfo: Sendable {
        public var scene: String
        public var split: String
        public init(scene: String, split: String) {
            self.scene = scene
            self.split = split
        }
    }

    public var date: Date
    public var version: String
    /// The test set folder or dataset evaluated.
    public var dataset: String
    /// The split evaluated (nil for a folder set).
    public var split: String?
    /// SHA-256 of each model's weights file, by method name.
    public var weights: [String: String]
    /// Scene and split by pair name (dataset evaluations).
    public var pairs: [String: PairInfo]

    public init(date: Date = Date(), version: String = "", dataset: String = "", split: String? = nil,
                weights: [String: String] = [:], pairs: [String: PairInfo] = [:]) {
        self.date = date
        self.version = version
        self.dataset = dataset
        self.split = split
        self.weights = weights
        self.pairs = pairs
    }
}

func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
