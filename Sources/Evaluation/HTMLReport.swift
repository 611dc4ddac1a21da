import Foundation
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
    /// Longest side of the side-by-side pictures.
    public var thumbnailSide = 640
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
        func save(_ image: RGBImage, _ name: String) throws -> String {
            try PNGFile.write(image.displayEncoded().downscaled(maxSide: thumbnailSide), to: dir.appendingPathComponent(name),
                              bitDepth: 8, compressionLevel: 3)
            return "pairs/\(id)/\(name)"
        }
        func saveCrop(_ image: RGBImage, _ name: String) throws -> String {
            let side = min(cropSide, image.width, image.height)
            let crop = image.displayEncoded().cropped(x: min(cx, image.width - side), y: min(cy, image.height - side),
                                                      width: side, height: side)
            try PNGFile.write(crop.enlargedNearest(by: cropZoom), to: dir.appendingPathComponent(name), bitDepth: 8,
                              compressionLevel: 3)
            return "pairs/\(id)/\(name)"
        }

        var figures: [(caption: String, image: String, crop: String, heat: String?)] = []
        // The input row of the table is the input itself: its scores and heat-map go with the input picture.
        let inputIndex = scored.outputs.firstIndex { $0.method == InputMethod().name }
        figures.append(("Input", try save(scored.input, "input.png"), try saveCrop(scored.input, "input-crop.png"),
                        try inputIndex.map { _ in try save(heatMap(scored.input, scored.target), "error-input.png") }))
        for (i, output) in scored.outputs.enumerated() where i != inputIndex {
            let heat = heatMap(output.image, scored.target)
            figures.append((output.method, try save(output.image, "output-\(i).png"),
                            try saveCrop(output.image, "output-\(i)-crop.png"), try save(heat, "error-\(i).png")))
        }
        figures.append(("Ground truth", try save(scored.target, "target.png"), try saveCrop(scored.target, "target-crop.png"), nil))

        var html = "<section id=\"pair-\(id)\"><h3>\(escape(scored.pair.name))</h3><div class=\"row\">"
        for f in figures {
            let score = scored.outputs.first { $0.method == f.caption }?.scores
            let caption = escape(f.caption) + (score.map { s in
                String(format: " · %.2f dB · SSIM %.3f", s.psnr, s.ssim) + (s.lpips.map { String(format: " · LPIPS %.3f", $0) } ?? "")
            } ?? "")
            html += "<figure><img loading=\"lazy\" src=\"\(f.image)\" alt=\"\(escape(f.caption))\">"
            html += "<img class=\"crop\" loading=\"lazy\" src=\"\(f.crop)\" alt=\"zoomed crop\">"
            if let heat = f.heat { html += "<img loading=\"lazy\" src=\"\(heat)\" alt=\"error heat-map\">" }
            html += "<figcaption>\(caption)</figcaption></figure>"
        }
        html += "</div></section>"
        sections.append(html)
        pairRows.append((id, scored.pair.name, scored.outputs.map(\.scores)))
    }

    private var pairRows: [(id: String, name: String, scores: [MetricReport])] = []

    public func finish(_ report: EvaluationReport) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report), to: folder.appendingPathComponent("report.json"))

        var html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
            table{border-collapse:collapse;margin:12px 0}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}
            td:first-child,th:first-child{text-align:left}th{cursor:pointer;background:#eee;user-select:none}
            th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
            .row{display:flex;gap:10px;flex-wrap:wrap;align-items:flex-start}figure{margin:0;width:300px}
            figure img{width:100%;display:block;margin-bottom:4px;image-rendering:auto}
            figure img.crop{image-rendering:pixelated}figcaption{font-size:13px}section{margin:28px 0}
            .legend{height:12px;width:240px;background:linear-gradient(to right,#000004,#51127c,#b73779,#fc8961,#fcfdbf)}
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p>\(report.results.count / max(1, report.methods.count)) pairs\(report.croppedToMultipleOf8 ? ", cropped bottom/right to multiples of 8 as in the IFAN paper's evaluation" : ""). SSIM as the defocus papers compute it (7x7 uniform window); MAE ×10⁻¹.\(report.scoreProtocol.map { " Protocol: " + escape($0) + "." } ?? "")</p>
            <h2>Results</h2>
            """
        html += tableHTML(id: "summary", header: ["Model", "PSNR", "SSIM", "SSIM (Gaussian)", "MAE ×10⁻¹", "LPIPS", "Params (M)", "MACs (G)", "Time (s)"],
                          rows: report.methods.map { m in
                              [escape(m.name), f(m.psnr, 2), f(m.ssim, 3), f(m.ssimGaussian, 3), f(m.mae * 10, 3),
                               m.lpips.map { f($0, 3) } ?? "-",
                               m.complexity?.parameters.map { f(Double($0) / 1e6, 2) } ?? "-",
                               m.complexity?.macs.map { f($0 / 1e9, 1) } ?? "-", f(m.secondsPerImage, 3)]
                          })
        html += "<h2>Per pair</h2><p>Click a column to sort.</p>"
        var header = ["Pair"]
        for m in methodNames { header += ["\(m) PSNR", "\(m) SSIM", "\(m) LPIPS"] }
        html += tableHTML(id: "pairs", header: header, rows: pairRows.map { row in
            var cells = ["<a href=\"#pair-\(row.id)\">\(escape(row.name))</a>"]
            for s in row.scores { cells += [f(s.psnr, 2), f(s.ssim, 4), s.lpips.map { f($0, 4) } ?? "-"] }
            return cells
        })
        html += "<h2>Pairs</h2><p>Each method's output is followed by a zoomed crop of the most detailed region and its error heat-map (mean absolute error, 0 <span class=\"legend\" style=\"display:inline-block\"></span> \(f(Double(heatMapMaximum), 2)) and above).</p>"
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
            </script></body></html>
            """
        try AtomicFile.write(Data(html.utf8), to: folder.appendingPathComponent("index.html"))
    }

    private func tableHTML(id: String, header: [String], rows: [[String]]) -> String {
        var html = "<table class=\"sortable\" id=\"\(id)\"><thead><tr>"
        html += header.map { "<th>\(escape($0))</th>" }.joined()
        html += "</tr></thead><tbody>"
        for row in rows { html += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>" }
        return html + "</tbody></table>"
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

func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
