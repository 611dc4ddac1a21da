import Foundation
import GRDB
import PairVocabulary

/// What the browser review sorts pairs by. Every field maps to one SQL expression; names come from a closed set
/// (quality keys and model names are bound as arguments, never spliced into the SQL).
public enum ReviewSortField: Sendable, Equatable, Hashable {
    case id
    case name
    case scene
    case skew
    case colourResidual
    /// A figure of the pair's quality object (`overlap`, `p95Shift`, ...).
    case quality(String)
    /// One model's score on the pair.
    case score(model: String, metric: ScoreMetric)

    public enum ScoreMetric: String, Sendable, CaseIterable {
        case psnr, ssim, ssimGaussian, mae, lpips, seconds
    }

    /// Parses `id`, `name`, `scene`, `skew`, `colourResidual`, `quality.KEY` or `score.MODEL.METRIC`.
    public init?(_ text: String) {
        switch text {
        case "id": self = .id
        case "name": self = .name
        case "scene": self = .scene
        case "skew": self = .skew
        case "colourResidual": self = .colourResidual
        default:
            if text.hasPrefix("quality.") {
                let key = String(text.dropFirst("quality.".count))
                // Names of figures are identifiers; anything else could not be written as a JSON path.
                guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
                else { return nil }
                self = .quality(key)
            } else if text.hasPrefix("score."), let dot = text.lastIndex(of: "."),
                      let metric = ScoreMetric(rawValue: String(text[text.index(after: dot)...])) {
                // `score.psnr` has no model: its last dot is the one after "score", before the model would start
                // (the review fuzz target found that this made an empty range trap, a one-request crash).
                let modelStart = text.index(text.startIndex, offsetBy: "score.".count)
                guard dot > modelStart else { return nil }
                self = .score(model: String(text[modelStart..<dot]), metric: metric)
            } else {
                return nil
            }
        }
    }

    /// The text form `init?(_:)` reads.
    public var text: String {
        switch self {
        case .id: "id"
        case .name: "name"
        case .scene: "scene"
        case .skew: "skew"
        case .colourResidual: "colourResidual"
        case .quality(let key): "quality.\(key)"
        case .score(let model, let metric): "score.\(model).\(metric.rawValue)"
        }
    }
}

/// A filtered, sorted page of pairs for the browser review.
public struct ReviewQuery: Sendable, Equatable {
    public var verdict: Verdict?
    public var review: ReviewState?
    public var scene: String?
    public var split: Split?
    /// Conditions on figures (`quality.p95Shift>0.5`, `score.ifan.psnr<30`), all of which must hold.
    public var conditions: [ReviewCondition]
    public var sort: ReviewSortField
    public var descending: Bool
    public var limit: Int
    public var offset: Int

    public init(verdict: Verdict? = nil, review: ReviewState? = nil, scene: String? = nil, split: Split? = nil,
                conditions: [ReviewCondition] = [], sort: ReviewSortField = .id, descending: Bool = false,
                limit: Int = 100, offset: Int = 0) {
        self.verdict = verdict
        self.review = review
        self.scene = scene
        self.split = split
        self.conditions = conditions
        self.sort = sort
        self.descending = descending
        self.limit = limit
        self.offset = offset
    }

    /// The pairs the queue shows, as every pair query filters them.
    public var filter: PairFilter { PairFilter(scene: scene, verdict: verdict, split: split, review: review) }
}

/// One row of the review queue: the pair's summary with the figures it can be sorted by.
public struct ReviewRow: Sendable, Codable, Equatable {
    public let id: PairID
    public let key: String
    public let name: String
    public let scene: String
    public let verdict: Verdict
    public let split: Split
    public let reviewState: ReviewState
    public let reviewNote: String
    public let quality: QualityFigures
    public let skew: Double?
    public let colourResidual: Double?
    /// Model name to metric name to value.
    public let scores: [String: [String: Double]]
}

/// Written through `FiniteFigures`, as the pair records are: a crafted non-finite figure is null and named.
extension ReviewRow {
    public func encode(to encoder: Encoder) throws {
        var figures = FiniteFigures()
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(key, forKey: .key)
        try c.encode(name, forKey: .name)
        try c.encode(scene, forKey: .scene)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(split, forKey: .split)
        try c.encode(reviewState, forKey: .reviewState)
        try c.encode(reviewNote, forKey: .reviewNote)
        try c.encode(figures.values(quality.values, "quality"), forKey: .quality)
        try c.encodeFigure(skew, forKey: .skew, &figures)
        try c.encodeFigure(colourResidual, forKey: .colourResidual, &figures)
        var models: [String: [String: Double?]] = [:]
        for model in scores.keys.sorted() { models[model] = figures.values(scores[model] ?? [:], "scores.\(model)") }
        try c.encode(models, forKey: .scores)
        try figures.encodeNotes(to: encoder)
    }
}

/// A page of the queue, the number of pairs the filter matches, and counts over the whole dataset.
public struct ReviewPage: Sendable, Codable, Equatable {
    public let total: Int
    public let offset: Int
    public let limit: Int
    public let rows: [ReviewRow]
    public let byVerdict: [String: Int]
    public let byReview: [String: Int]
    public let bySplit: [String: Int]
    public let pairs: Int
}

/// What the queue's filter and sort menus offer.
public struct ReviewFacets: Sendable, Codable, Equatable {
    public let scenes: [String]
    public let qualityKeys: [String]
    public let models: [String]
    /// Every sort key, in the text form of `ReviewSortField`.
    public let sortKeys: [String]
}

extension Dataset {
    /// A page of pairs in the order asked for; pairs lacking the sort figure come last in either direction, ties
    /// by id, so paging is stable.
    public func reviewPage(_ query: ReviewQuery) throws -> ReviewPage {
        let (whereSQL, arguments) = Self.reviewWhere(query)
        let (orderSQL, orderArguments) = Self.reviewOrder(query)
        let limit = max(0, min(query.limit, 1000)), offset = max(0, query.offset)
        return try read { db in
            let total = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM pair p JOIN scene s ON s.id = p.sceneId LEFT JOIN capture c ON c.id = p.captureId
                """ + whereSQL, arguments: arguments) ?? 0
            var pageArguments = arguments
            pageArguments += orderArguments
            let rows = try Row.fetchAll(db, sql: """
                SELECT p.id, p.contentKey, p.name, s.name AS scene, p.verdict, p.split, p.reviewState, p.reviewNote,
                       p.quality, p.colourResidual, c.skew
                FROM pair p JOIN scene s ON s.id = p.sceneId LEFT JOIN capture c ON c.id = p.captureId
                """ + whereSQL + orderSQL + " LIMIT \(limit) OFFSET \(offset)", arguments: pageArguments)
            let ids = rows.map { $0["id"] as Int64 }
            var scores: [Int64: [String: [String: Double]]] = [:]
            if !ids.isEmpty {
                let list = ids.map(String.init).joined(separator: ",")
                for e in try Row.fetchAll(db, sql: """
                    SELECT e.pairId, m.name AS model, e.psnr, e.ssim, e.ssimGaussian, e.mae, e.lpips, e.seconds
                    FROM evaluation e JOIN model m ON m.id = e.modelId WHERE e.pairId IN (\(list)) ORDER BY e.id
                    """) {
                    var figures: [String: Double] = [:]
                    for metric in ReviewSortField.ScoreMetric.allCases {
                        if let value: Double = e[metric.rawValue] { figures[metric.rawValue] = value }
                    }
                    scores[e["pairId"], default: [:]][e["model"]] = figures
                }
            }
            var byVerdict: [String: Int] = [:], byReview: [String: Int] = [:], bySplit: [String: Int] = [:]
            var pairs = 0
            for row in try Row.fetchAll(db, sql: "SELECT verdict, reviewState, split, count(*) FROM pair GROUP BY 1, 2, 3") {
                let n: Int = row[3]
                byVerdict[row[0], default: 0] += n
                byReview[row[1], default: 0] += n
                bySplit[row[2], default: 0] += n
                pairs += n
            }
            return ReviewPage(
                total: total, offset: offset, limit: limit,
                rows: try rows.map { row in
                    let id: Int64 = row["id"]
                    return ReviewRow(
                        id: PairID(id), key: row["contentKey"], name: row["name"], scene: row["scene"],
                        verdict: try row.vocabulary("verdict", of: "pair", id: id),
                        split: try row.vocabulary("split", of: "pair", id: id),
                        reviewState: try row.vocabulary("reviewState", of: "pair", id: id), reviewNote: row["reviewNote"],
                        quality: QualityFigures(JSONText.decode([String: Double].self, row["quality"]) ?? [:]), skew: row["skew"],
                        colourResidual: row["colourResidual"], scores: scores[id] ?? [:])
                },
                byVerdict: byVerdict, byReview: byReview, bySplit: bySplit, pairs: pairs)
        }
    }

    /// The ids of every pair the query matches, in its order (limit and offset ignored): next and previous in
    /// the pair view.
    public func reviewOrder(_ query: ReviewQuery) throws -> [PairID] {
        let (sql, arguments) = Self.reviewOrderSQL(query)
        return try read { db in try PairID.fetchAll(db, sql: sql, arguments: arguments) }
    }

    /// The ids query behind `reviewOrder`, built once so that `reviewQueryPlan` explains exactly what runs.
    static func reviewOrderSQL(_ query: ReviewQuery) -> (String, StatementArguments) {
        let (whereSQL, arguments) = reviewWhere(query)
        let (orderSQL, orderArguments) = reviewOrder(query)
        var all = arguments
        all += orderArguments
        return ("""
            SELECT p.id FROM pair p JOIN scene s ON s.id = p.sceneId LEFT JOIN capture c ON c.id = p.captureId
            """ + whereSQL + orderSQL, all)
    }

    /// SQLite's plan for the queue's query (the `detail` lines of EXPLAIN QUERY PLAN): which indexes a sort or
    /// a figure condition reaches the rows through, for tests and for diagnosing a slow queue.
    public func reviewQueryPlan(_ query: ReviewQuery) throws -> [String] {
        let (sql, arguments) = Self.reviewOrderSQL(query)
        return try read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
    }

    /// Scenes, quality figure names and models present in the catalogue.
    public func reviewFacets() throws -> ReviewFacets {
        try read { db in
            let scenes = try String.fetchAll(db, sql: "SELECT name FROM scene ORDER BY name")
            let keys = try String.fetchAll(db, sql: """
                SELECT DISTINCT j.key FROM pair p, json_each(p.quality) j WHERE json_valid(p.quality) ORDER BY j.key
                """).filter { ReviewSortField("quality.\($0)") != nil }
            let models = try String.fetchAll(db, sql: """
                SELECT DISTINCT m.name FROM model m JOIN evaluation e ON e.modelId = m.id ORDER BY m.name
                """)
            var sortKeys = ["id", "name", "scene", "skew", "colourResidual"] + keys.map { "quality.\($0)" }
            for model in models {
                sortKeys += ReviewSortField.ScoreMetric.allCases.map { "score.\(model).\($0.rawValue)" }
            }
            return ReviewFacets(scenes: scenes, qualityKeys: keys, models: models, sortKeys: sortKeys)
        }
    }

    /// The bytes of a file the catalogue manages, read through the dataset's confined open: a symbolic link on its
    /// path - even one to another file inside the dataset - is refused (`DatasetError.unsafePath`), never followed.
    public func readManagedFile(_ file: FileInfo) throws -> Data {
        guard Self.isManagedPath(file.path) else {
            throw DatasetError.database("the catalogue names \(file.path), which is outside the dataset's folders")
        }
        return try files.read(file.path)
    }

    /// The absolute location of a catalogued file, refusing any path that is not inside the dataset's managed
    /// folders (so a damaged catalogue row can never make a server hand out another file).
    public func managedFileURL(_ file: FileInfo) throws -> URL {
        guard Self.isManagedPath(file.path) else {
            throw DatasetError.database("the catalogue names \(file.path), which is outside the dataset's folders")
        }
        let url = root.appendingPathComponent(file.path).resolvingSymlinksInPath()
        let base = root.resolvingSymlinksInPath().path + "/"
        guard url.path.hasPrefix(base) else {
            throw DatasetError.database("\(file.path) leads outside the dataset folder \(root.path)")
        }
        return url
    }

    /// The SQL expression of one figure of a pair (over `pair p`, `scene s`, `capture c`) and its arguments.
    private static func expression(_ field: ReviewSortField) -> (String, StatementArguments) {
        switch field {
        case .id: return ("p.id", [])
        case .name: return ("p.name", [])
        case .scene: return ("s.name", [])
        case .skew: return ("c.skew", [])
        case .colourResidual: return ("p.colourResidual", [])
        case .quality(let key):
            // The key is an identifier (see init), bound as a quoted JSON path.
            return ("(CASE WHEN json_valid(p.quality) THEN json_extract(p.quality, ?) END)", ["$.\"\(key)\""])
        case .score(let model, let metric):
            // The pair's most recent row of that model. `+e.modelId` keeps SQLite off the evaluation_model index,
            // which it otherwise picks (every row of the model, for every pair: 19 s instead of 30 ms to sort
            // 10,000 pairs, found by ReviewBenchmark); the pairId index finds the pair's few rows.
            return ("""
                (SELECT e.\(metric.rawValue) FROM evaluation e JOIN model m ON m.id = +e.modelId
                 WHERE e.pairId = p.id AND m.name = ? ORDER BY e.id DESC LIMIT 1)
                """, [model])
        }
    }

    /// The queue's filter and its figure conditions as one WHERE clause. A NULL figure fails every comparison,
    /// so pairs lacking it never match.
    private static func reviewWhere(_ query: ReviewQuery) -> (String, StatementArguments) {
        var (sql, arguments) = query.filter.whereClause()
        for condition in query.conditions {
            let (figure, expressionArguments) = Self.expression(condition.field)
            // The operator comes from a closed set; the value is bound.
            sql += (sql.isEmpty ? " WHERE " : " AND ") + "(\(figure)) \(condition.comparison.rawValue) ?"
            arguments += expressionArguments
            _ = arguments.append(contentsOf: [condition.value])
        }
        return (sql, arguments)
    }

    private static func reviewOrder(_ query: ReviewQuery) -> (String, StatementArguments) {
        let (figure, once) = Self.expression(query.sort)
        // The expression appears twice (null test, then value): its arguments are bound twice.
        var arguments = once
        arguments += once
        let direction = query.descending ? "DESC" : "ASC"
        return (" ORDER BY (\(figure)) IS NULL, \(figure) \(direction), p.id \(direction)", arguments)
    }
}
