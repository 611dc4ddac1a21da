import DatasetBuilder
import Foundation
import PairVocabulary
import WebServing

/// The server-rendered pages. Everything interpolated is escaped; scripts and styles are the embedded assets.
enum Page {
    /// The shared page frame's escaping and document, under the names this file uses throughout.
    static func escape(_ s: String) -> String { HTML.escape(s) }

    static func document(title: String, body: String, script: String? = nil) -> String {
        HTML.document(title: title, body: body, script: script)
    }

    static func format(_ value: Double?) -> String {
        guard let value else { return "–" }
        if value == value.rounded(), abs(value) < 1e6 { return String(Int(value)) }
        return abs(value) >= 100 ? String(format: "%.1f", value) : String(format: "%.4g", value)
    }

    // MARK: - Queue

    static func queue(query: ReviewQuery, page: ReviewPage, facets: ReviewFacets, dataset: String, readOnly: Bool) -> String {
        func select(_ name: String, _ label: String, _ values: [String], _ current: String?) -> String {
            let options = ([""] + values).map { (v: String) -> String in
                "<option value=\"\(escape(v))\"\(v == (current ?? "") ? " selected" : "")>\(v.isEmpty ? "any" : escape(v))</option>"
            }.joined()
            return "<label>\(label) <select name=\"\(name)\">\(options)</select></label>"
        }
        let counts = [
            "<span><b>\(page.pairs)</b> pairs</span>",
            page.byReview.keys.sorted().map { "<span>\(escape($0)) <b>\(page.byReview[$0] ?? 0)</b></span>" }.joined(),
            page.byVerdict.keys.sorted().map { "<span>verdict \(escape($0)) <b>\(page.byVerdict[$0] ?? 0)</b></span>" }.joined(),
            "<span>matching <b>\(page.total)</b></span>",
        ].joined()
        // Worst aligned first: the largest 95th-percentile block shift, or the lowest correlation when the
        // pipeline's misalignment figures are absent (imports).
        let worst: ReviewQuery = {
            var q = query
            q.offset = 0
            if facets.qualityKeys.contains("p95Shift") { q.sort = .quality("p95Shift"); q.descending = true }
            else if facets.qualityKeys.contains("correlation") { q.sort = .quality("correlation"); q.descending = false }
            else if let first = facets.qualityKeys.first { q.sort = .quality(first); q.descending = false }
            return q
        }()
        let filterQuery = query.queryString()
        let columns = QueueColumns(facets: facets, query: query)
        var head = readOnly ? "" : "<th><input type=\"checkbox\" id=\"pick-all\" aria-label=\"select every pair on this page\"></th>"
        head += columns.list.map { $0.header }.joined()
        let rows = page.rows.map { (r: ReviewRow) -> String in
            let link = "/pairs/\(r.id)\(filterQuery.isEmpty ? "" : "?" + filterQuery)"
            var cells = readOnly ? "" : "<td><input type=\"checkbox\" class=\"pick\" aria-label=\"select pair \(r.id)\"></td>"
            cells += columns.list.map { $0.cell(r, link) }.joined()
            return "<tr data-id=\"\(r.id)\">\(cells)</tr>"
        }.joined(separator: "\n")
        var pager = ""
        if query.offset > 0 {
            pager += "<a rel=\"prev\" href=\"/?\(escape(query.queryString(includePaging: true, offset: max(0, query.offset - query.limit))))\">← previous page</a> "
        }
        let last = min(page.total, query.offset + page.rows.count)
        pager += "<span>\(page.total == 0 ? 0 : query.offset + 1)–\(last) of \(page.total)</span>"
        if last < page.total {
            pager += " <a rel=\"next\" href=\"/?\(escape(query.queryString(includePaging: true, offset: query.offset + query.limit)))\">next page →</a>"
        }
        let body = """
        <header><h1>rigctl review · \(escape(dataset))</h1>\(readOnly ? "<span class=\"badge\">read-only</span>" : "")</header>
        <section class="counts">\(counts)</section>
        <form class="filters" method="get" action="/">
        \(select("verdict", "verdict", Verdict.allCases.map(\.rawValue), query.verdict?.rawValue))
        \(select("review", "review", ReviewState.allCases.map(\.rawValue), query.review?.rawValue))
        \(select("scene", "scene", facets.scenes, query.scene))
        \(select("split", "split", Split.allCases.map(\.rawValue), query.split?.rawValue))
        <label>where <input type="text" name="where" id="where" value="\(escape(ReviewCondition.listText(query.conditions)))" placeholder="\(escape(conditionExample(facets)))" title="conditions on any figure, all must hold: FIELD&lt;VALUE, FIELD&gt;=VALUE, ... separated by commas"></label>
        \(select("sort", "sort", facets.sortKeys, query.sort.text))
        <label>order <select name="order"><option value="asc"\(query.descending ? "" : " selected")>ascending</option><option value="desc"\(query.descending ? " selected" : "")>descending</option></select></label>
        <button type="submit">apply</button>
        <a class="worst" href="/?\(escape(worst.queryString()))">worst aligned first</a>
        <a href="/">reset</a>
        \(columns.chooser)
        </form>
        \(readOnly ? "" : batchBar(total: page.total, filter: filterQuery))
        <div class="table-wrap"><table class="queue"><thead><tr>\(head)</tr></thead><tbody>
        \(rows)
        </tbody></table></div>
        <nav class="pager">\(pager)</nav>
        """
        return document(title: "review · \(dataset)", body: body, script: "queue.js")
    }

    /// A placeholder for the `where` field made of figures this catalogue has.
    static func conditionExample(_ facets: ReviewFacets) -> String {
        var parts: [String] = []
        if let key = facets.qualityKeys.contains("p95Shift") ? "p95Shift" : facets.qualityKeys.first { parts.append("quality.\(key)>0.5") }
        if let model = facets.models.first { parts.append("score.\(model).psnr<30") }
        return parts.isEmpty ? "skew>0.001" : parts.joined(separator: ", ")
    }

    /// Batch decisions on the selected rows, or on every pair the filter matches; each asks for a confirmation
    /// in the page before anything is sent.
    static func batchBar(total: Int, filter: String) -> String {
        """
        <div class="batch" id="batch" data-total="\(total)" data-filter="\(escape(filter))">
        <span id="selected">0 selected</span>
        <button type="button" id="select-matching">select all \(total) matching</button>
        <button type="button" data-batch="approved" disabled>approve</button>
        <button type="button" data-batch="flagged" disabled>another look</button>
        <button type="button" data-batch="rejected" disabled>reject</button>
        <button type="button" data-batch="unreviewed" disabled>unreviewed</button>
        <input id="batch-note" type="text" placeholder="note for all (optional)">
        <span id="confirm" hidden><span id="confirm-text"></span> <button type="button" id="confirm-yes">yes</button>
        <button type="button" id="confirm-no">cancel</button></span>
        <span id="batch-status" role="status"></span>
        </div>
        """
    }

    // MARK: - Pair

    static func pair(_ p: PairDetail, query: ReviewQuery, previous: PairID?, next: PairID?, position: (Int, Int)?,
                     readOnly: Bool) -> String {
        let filter = query.queryString()
        let suffix = filter.isEmpty ? "" : "?" + filter
        func link(_ id: PairID?, _ rel: String, _ label: String) -> String {
            guard let id else { return "<span class=\"disabled\">\(label)</span>" }
            return "<a id=\"\(rel)\" rel=\"\(rel)\" href=\"/pairs/\(id)\(escape(suffix))\">\(label)</a>"
        }
        var figures: [(String, String)] = p.quality.names.map { ($0, format(p.quality[$0])) }
        if let c = p.colour {
            figures.append(("colour model", c.model.rawValue))
            figures.append(("colour residual", format(c.residual)))
        }
        if let crop = p.crop { figures.append(("crop", "\(crop.width)×\(crop.height) at (\(crop.x), \(crop.y))")) }
        if let h = p.homography { figures.append(("homography (source → target)", h.m.map { format($0) }.joined(separator: " "))) }
        if let capture = p.capture {
            figures.append(("skew", capture.skew.map { String(format: "%.2f ms", $0 * 1000) } ?? "–"))
            for shot in capture.shots {
                let s = shot.settings
                var parts: [String] = ["\(shot.camera.make) \(shot.camera.model)"]
                if let a = s.aperture { parts.append("f/\(format(a))") }
                if let t = s.exposureTime { parts.append(t < 1 ? "1/\(Int((1 / t).rounded())) s" : "\(format(t)) s") }
                if let iso = s.iso { parts.append("ISO \(iso)") }
                if let f = s.focalLength { parts.append("\(format(f)) mm") }
                figures.append((shot.role.rawValue, parts.joined(separator: ", ")))
            }
        }
        if !p.reasons.isEmpty { figures.append(("reasons", p.reasons.joined(separator: "; "))) }
        let figureRows = figures.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined()
        let scoreRows = p.evaluations.map { (e: EvaluationDetail) -> String in
            "<tr><th>\(escape(e.model + (e.scoreProtocol.map { " (" + $0.framing.rawValue + ")" } ?? "")))</th><td>\(format(e.psnr))</td><td>\(format(e.ssim))</td><td>\(format(e.mae))</td><td>\(format(e.lpips))</td></tr>"
        }.joined()
        let scores = p.evaluations.isEmpty ? "" : """
            <h2>scores</h2><table class="figures"><tr><th>model</th><th>PSNR</th><th>SSIM</th><th>MAE</th><th>LPIPS</th></tr>\(scoreRows)</table>
            """
        // Model outputs stored with their evaluations, beside the pair under one pan and zoom, captioned with
        // their scores.
        let outputs = p.evaluations.filter { $0.output != nil }
        let outputViews = outputs.enumerated().map { (i, e) -> String in
            let caption = "\(e.model) · PSNR \(format(e.psnr)) dB · SSIM \(format(e.ssim))"
                + (e.lpips.map { " · LPIPS \(format($0))" } ?? "")
            let src = "/api/pairs/\(p.id)/image/output?model=\(URLText.component(e.model))"
            return "<figure class=\"view output\" id=\"view-out-\(i)\" data-model=\"\(escape(e.model))\">"
                + "<figcaption>\(escape(caption))</figcaption><div class=\"stage\">"
                + "<img alt=\"\(escape(e.model)) output\" src=\"\(escape(src))\"></div></figure>"
        }.joined(separator: "\n")
        // The crop is drawn over the source camera's original frame, which only captured pairs have.
        let framed = p.crop != nil && p.capture?.shot(.source) != nil
        let cropAttribute = framed ? p.crop.map { " data-crop=\"\($0.x),\($0.y),\($0.width),\($0.height)\"" } ?? "" : ""
        let decisions = readOnly ? "<p class=\"badge\">read-only: decisions are off (start rigctl review with --decisions)</p>" : """
            <div class="decide">
            <button data-state="approved" title="a">approve (a)</button>
            <button data-state="rejected" title="r">reject (r)</button>
            <button data-state="flagged" title="f">another look (f)</button>
            <button data-state="unreviewed" title="u">unreviewed (u)</button>
            <input id="note" type="text" placeholder="note" value="\(escape(p.reviewNote))">
            </div>
            """
        let body = """
        <header><a href="/\(escape(suffix))">← queue</a> <h1>pair \(p.id) · \(escape(p.name))</h1>
        <span>\(escape(p.scene)) · \(p.split) · verdict <b class="v-\(p.verdict)">\(p.verdict)</b> ·
        review <b id="state" class="r-\(p.reviewState)">\(p.reviewState)</b></span>
        <nav>\(link(previous, "prev", "← previous (k)")) \(position.map { "\($0.0) of \($0.1)" } ?? "") \(link(next, "next", "next (j) →"))</nav>
        </header>
        <main id="pair" data-id="\(p.id)" data-next="\(next.map(String.init) ?? "")" data-prev="\(previous.map(String.init) ?? "")" data-query="\(escape(filter))"\(cropAttribute)>
        <div class="toolbar">
        <button data-mode="side">side by side (s)</button><button data-mode="flicker">flicker (space)</button>
        <button data-mode="wipe">wipe (w)</button><button data-mode="difference">difference (d)</button>
        <button data-mode="frame"\(framed ? "" : " disabled title=\"no original frame or crop in the catalogue\"")>frame and crop (c)</button>
        <button id="map-toggle" aria-pressed="false">misalignment map (m)</button>
        \(outputs.isEmpty ? "" : "<button id=\"compare\">compare with: <span id=\"compare-name\">target</span> (o)</button>")
        <button id="one">1:1 (1)</button><button id="fit">fit (0)</button>
        <input id="wipe" type="range" min="0" max="100" value="50" aria-label="wipe position">
        <span id="zoom"></span> <span id="status" role="status"></span>
        </div>
        <div class="views" data-mode="side">
        <figure class="view" id="view-a"><figcaption>source (input)</figcaption><div class="stage">
        <img alt="source" src="/api/pairs/\(p.id)/image/source"><img class="over" alt="target" src="/api/pairs/\(p.id)/image/target">
        </div></figure>
        <figure class="view" id="view-b"><figcaption>aligned target</figcaption><div class="stage">
        <img alt="target" src="/api/pairs/\(p.id)/image/target">
        </div></figure>
        \(outputViews)
        </div>
        \(decisions)
        <aside><h2>figures</h2><table class="figures">\(figureRows)</table>\(scores)
        <h2>misalignment map (m)</h2><p id="map-legend">Each in-focus block's residual shift after alignment:
        <span class="swatch good"></span> under half the threshold, <span class="swatch fair"></span> under the
        threshold, <span class="swatch bad"></span> over it (outlined: the block fails the check). Unmeasured blocks
        (defocused or flat) are clear. <span id="map-summary"></span></p>
        </aside>
        </main>
        """
        return document(title: "pair \(p.id) · \(p.name)", body: body, script: "pair.js")
    }
}
