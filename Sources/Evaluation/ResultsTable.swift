import Foundation
import PairVocabulary

/// The output formats of a results table.
public enum TableFormat: String, Sendable, CaseIterable, Codable {
    case text, markdown, csv, latex, json
}

/// The paper's results table (Model, PSNR, SSIM, MAE x10^-1, LPIPS, Params, MACs, Time) in every format a
/// person or a script wants.
public struct ResultsTable: Sendable {
    public var rows: [MethodSummary]

    public init(rows: [MethodSummary]) { self.rows = rows }

    /// The protocol(s) of the rows, one line, for the tables' caption.
    var caption: String? {
        var seen: [String] = []
        for p in rows.compactMap(\.scoreProtocol) {
            let line = p.named.map { "\($0) (\(p))" } ?? p.description
            if !seen.contains(line) { seen.append(line) }
        }
        let subsets = Array(Set(rows.compactMap(\.subset))).sorted()
        let protocols = seen.isEmpty ? nil : "Protocol: " + seen.joined(separator: "; ")
        return subsets.isEmpty ? protocols : ["Subset: " + subsets.joined(separator: ", "), protocols].compactMap { $0 }.joined(separator: "; ")
    }

    static let header = ["Model", "PSNR↑", "SSIM↑", "MAE(×10⁻¹)↓", "LPIPS↓", "Params(M)", "MACs(G)", "Time(s)"]

    /// Whether the rows carry intervals, and the row they are compared with (the columns appear only then).
    var hasIntervals: Bool { rows.contains { $0.uncertainty != nil } }
    var reference: String? { rows.lazy.compactMap(\.comparison?.against).first }

    var header: [String] {
        Self.header + (hasIntervals ? ["PSNR 95% CI", "SSIM 95% CI"] : [])
            + (reference.map { ["ΔPSNR vs \($0) (95% CI)"] } ?? [])
    }

    static func interval(_ i: Interval?, digits: Int) -> String {
        guard let i else { return "-" }
        guard i.isKnown else { return "n/a (1 scene)" }
        return "[" + String(format: "%.\(digits)f", i.low) + ", " + String(format: "%.\(digits)f", i.high) + "]"
    }

    /// "+2.38 [1.90, 2.85] holds" or "... not shown" when the interval contains 0.
    static func difference(_ d: MethodComparison.Difference?) -> String {
        guard let d else { return "-" }
        guard d.interval.isKnown else { return String(format: "%+.2f", d.difference) + " (1 scene: no interval)" }
        return String(format: "%+.2f ", d.difference) + interval(d.interval, digits: 2) + (d.holds ? " holds" : " not shown")
    }

    /// Cells as the paper prints them: PSNR 2 decimals, SSIM and LPIPS 3, MAE x10 with 3, params in millions,
    /// MACs in G at the complexity's reference size, time per image.
    func cells(_ row: MethodSummary) -> [String] {
        [
            row.name,
            String(format: "%.2f", row.psnr),
            String(format: "%.3f", row.ssim),
            String(format: "%.3f", row.mae * 10),
            row.lpips.map { String(format: "%.3f", $0) } ?? "-",
            row.complexity?.parameters.map { String(format: "%.2f", Double($0) / 1e6) } ?? "-",
            row.complexity?.gigaMACs.map { String(format: "%.1f", $0) } ?? "-",
            String(format: "%.3f", row.secondsPerImage),
        ] + (hasIntervals ? [Self.interval(row.uncertainty?.psnr, digits: 2), Self.interval(row.uncertainty?.ssim, digits: 3)] : [])
          + (reference == nil ? [] : [row.name == reference ? "reference" : Self.difference(row.comparison?.psnr)])
    }

    /// Rows of several protocols (`evaluate --protocol ifan,dpdd`) make one table per protocol in text, markdown
    /// and LaTeX, each with its caption; CSV and JSON keep one list, the protocol a column.
    public func render(_ format: TableFormat) throws -> String {
        var groups: [(key: ScoreProtocol?, subset: String?, rows: [MethodSummary])] = []
        for row in rows {
            if let i = groups.firstIndex(where: { $0.key == row.scoreProtocol && $0.subset == row.subset }) { groups[i].rows.append(row) }
            else { groups.append((row.scoreProtocol, row.subset, [row])) }
        }
        if groups.count > 1, [.text, .markdown, .latex].contains(format) {
            return try groups.map { try ResultsTable(rows: $0.rows).render(format) }.joined(separator: "\n")
        }
        switch format {
        case .text: return text()
        case .markdown: return markdown()
        case .csv: return csv()
        case .latex: return latex()
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return String(decoding: try encoder.encode(rows), as: UTF8.self) + "\n"
        }
    }

    func text() -> String {
        let table = [header] + rows.map(cells)
        let widths = (0..<header.count).map { c in table.map { $0[c].count }.max() ?? 0 }
        return table.enumerated().map { i, row in
            let line = row.enumerated().map { c, cell in
                c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
            return i == 0 ? line + "\n" + String(repeating: "-", count: line.count) : line
        }.joined(separator: "\n") + "\n" + (caption.map { $0 + "\n" } ?? "")
    }

    func markdown() -> String {
        var lines = ["| " + header.joined(separator: " | ") + " |",
                     "|" + header.indices.map { $0 == 0 ? "---|" : "---:|" }.joined()]
        lines += rows.map { "| " + cells($0).map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
        if let caption { lines += ["", caption] }
        return lines.joined(separator: "\n") + "\n"
    }

    /// CSV keeps full precision and plain units (MAE as is, MACs as a count) for scripts.
    func csv() -> String {
        var lines = ["model,pairs,psnr,ssim,ssim_gaussian,mae,lpips,parameters,macs,seconds_per_image,protocol,protocol_detail,"
                     + "scenes,psnr_low,psnr_high,ssim_low,ssim_high,mae_low,mae_high,lpips_low,lpips_high,"
                     + "compared_with,psnr_difference,psnr_difference_low,psnr_difference_high,psnr_difference_holds,"
                     + "ssim_difference,ssim_difference_low,ssim_difference_high,ssim_difference_holds,subset"]
        for r in rows {
            let fields: [String] = [
                csvField(r.name), "\(r.pairs)", "\(r.psnr)", "\(r.ssim)", "\(r.ssimGaussian)", "\(r.mae)",
                r.lpips.map { "\($0)" } ?? "", r.complexity?.parameters.map { "\($0)" } ?? "",
                r.complexity?.macs.map { "\($0)" } ?? "", "\(r.secondsPerImage)",
                csvField(r.scoreProtocol?.label ?? ""), csvField(r.scoreProtocol?.description ?? ""),
            ] + Self.csvIntervals(r) + [csvField(r.subset ?? "")]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The interval and comparison columns, empty where the row has none.
    static func csvIntervals(_ r: MethodSummary) -> [String] {
        func ends(_ i: Interval?) -> [String] { i.flatMap { $0.isKnown ? ["\($0.low)", "\($0.high)"] : nil } ?? ["", ""] }
        func diff(_ d: MethodComparison.Difference?) -> [String] {
            d.map { ["\($0.difference)"] + ends($0.interval) + [$0.holds ? "true" : "false"] } ?? ["", "", "", ""]
        }
        let u = r.uncertainty, c = r.comparison
        return [u.map { "\($0.scenes)" } ?? ""] + ends(u?.psnr) + ends(u?.ssim) + ends(u?.mae) + ends(u?.lpips)
            + [c?.against ?? ""] + diff(c?.psnr) + diff(c?.ssim)
    }

    func csvField(_ s: String) -> String {
        s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    func latex() -> String {
        func escape(_ s: String) -> String {
            var out = ""
            for ch in s {
                switch ch {
                case "\\": out += "\\textbackslash{}"
                case "&", "%", "$", "#", "_", "{", "}": out += "\\" + String(ch)
                case "~": out += "\\textasciitilde{}"
                case "^": out += "\\textasciicircum{}"
                default: out.append(ch)
                }
            }
            return out
        }
        let extra = header.count - Self.header.count
        let extraHeads = header.dropFirst(Self.header.count).map { escape($0).replacingOccurrences(of: "Δ", with: "$\\Delta$") }
        var lines = (caption.map { ["% " + $0] } ?? []) + [
            "\\begin{tabular}{lrrrrrrr" + String(repeating: "r", count: extra) + "}",
            "\\toprule",
            "Model & PSNR$\\uparrow$ & SSIM$\\uparrow$ & MAE ($\\times10^{-1}$)$\\downarrow$ & LPIPS$\\downarrow$ & Params (M) & MACs (G) & Time (s)"
                + extraHeads.map { " & " + $0 }.joined() + " \\\\",
            "\\midrule",
        ]
        lines += rows.map { cells($0).enumerated().map { $0 == 0 ? escape($1) : $1 }.joined(separator: " & ") + " \\\\" }
        lines += ["\\bottomrule", "\\end{tabular}"]
        return lines.joined(separator: "\n") + "\n"
    }
}
