import DatasetBuilder
import Foundation
import PairVocabulary

/// The queue's columns in the order a reviewer reads them: a thumbnail, the id, what was decided (verdict,
/// review) and the scores first, then where the pair belongs, then the alignment figures. A catalogue can carry a
/// dozen quality figures, which scrolled the verdict and scores out of a 1400 px window; only two of them are shown
/// unless the person picks more in the column chooser (remembered by the browser). Columns marked `wide` give way
/// on a narrow screen (CSS), so a phone shows thumbnail, id, verdict, review and the first score.
struct QueueColumns {
    struct Column {
        /// Identifies the column's cells (`data-col`) and its chooser box.
        let key: String
        let label: String
        let shown: Bool
        let wide: Bool
        let header: String
        let cell: (ReviewRow, String) -> String
    }

    let list: [Column]

    init(facets: ReviewFacets, query: ReviewQuery) {
        func sortable(_ label: String, _ field: ReviewSortField) -> String {
            var q = query
            q.offset = 0
            let active = q.sort == field
            q.descending = active ? !query.descending : false
            q.sort = field
            let arrow = active ? (query.descending ? " ▼" : " ▲") : ""
            return "<a href=\"/?\(Page.escape(q.queryString(includePaging: true)))\">\(Page.escape(label))\(arrow)</a>"
        }
        func column(_ key: String, _ label: String, shown: Bool = true, wide: Bool = true, sort: ReviewSortField? = nil,
                    numeric: Bool = false, _ content: @escaping (ReviewRow, String) -> String) -> Column {
            let attributes = "data-col=\"\(Page.escape(key))\"" + (wide ? " class=\"wide\(numeric ? " num" : "")\""
                : numeric ? " class=\"num\"" : "") + (shown ? "" : " hidden")
            let title = sort.map { sortable(label, $0) } ?? Page.escape(label)
            return Column(key: key, label: label, shown: shown, wide: wide, header: "<th \(attributes)>\(title)</th>",
                          cell: { row, link in "<td \(attributes)>\(content(row, link))</td>" })
        }
        var list: [Column] = []
        list.append(column("thumb", "thumbnail", wide: false) { row, link in
            // Loaded by queue.js as rows scroll into view, a few at a time (the server renders at most a few
            // images at once and answers the rest 503).
            "<a class=\"thumb\" href=\"\(Page.escape(link))\" tabindex=\"-1\"><img alt=\"\" data-src=\"/api/pairs/\(row.id)/image/source?size=96&amp;format=jpeg\"></a>"
        })
        list.append(column("id", "id", wide: false, sort: .id) { row, link in
            "<a href=\"\(Page.escape(link))\">\(row.id)</a>"
        })
        list.append(column("verdict", "verdict", wide: false) { row, _ in
            "<span class=\"v-\(row.verdict)\">\(row.verdict)</span>"
        })
        list.append(column("review", "review", wide: false) { row, _ in
            "<span class=\"review r-\(row.reviewState)\" title=\"\(Page.escape(row.reviewNote))\">\(row.reviewState)</span>"
        })
        for (n, model) in facets.models.enumerated() {
            for metric in [ReviewSortField.ScoreMetric.psnr, .ssim] {
                let first = n == 0 && metric == .psnr
                list.append(column("score.\(model).\(metric.rawValue)", "\(model) \(metric.rawValue)", wide: !first,
                                   sort: .score(model: model, metric: metric), numeric: true) { row, _ in
                    Page.format(row.scores[model]?[metric.rawValue])
                })
            }
        }
        list.append(column("name", "name", sort: .name) { row, _ in Page.escape(row.name) })
        list.append(column("scene", "scene", sort: .scene) { row, _ in Page.escape(row.scene) })
        list.append(column("split", "split") { row, _ in "\(row.split)" })
        // The two figures that say most about alignment, or the first two there are.
        let preferred = ["p95Shift", "correlation"].filter(facets.qualityKeys.contains)
        let shownFigures = preferred.isEmpty ? Array(facets.qualityKeys.prefix(2)) : preferred
        for key in facets.qualityKeys {
            list.append(column("quality.\(key)", key, shown: shownFigures.contains(key), sort: .quality(key), numeric: true) { row, _ in
                Page.format(row.quality[key])
            })
        }
        list.append(column("skew", "skew", shown: false, sort: .skew, numeric: true) { row, _ in Page.format(row.skew) })
        list.append(column("colourResidual", "colour residual", shown: false, sort: .colourResidual, numeric: true) { row, _ in
            Page.format(row.colourResidual)
        })
        self.list = list
    }

    /// A drop-down of check boxes, one per column; queue.js applies and remembers the choice.
    var chooser: String {
        let boxes = list.map { c in
            "<label><input type=\"checkbox\" data-col=\"\(Page.escape(c.key))\"\(c.shown ? " checked" : "")> \(Page.escape(c.label))</label>"
        }.joined()
        return "<details class=\"columns\"><summary>columns</summary><div class=\"choices\">\(boxes)</div></details>"
    }
}
