import Crypto
import Foundation
import GRDB
import PairVocabulary

/// Counts for `rigctl dataset status`.
public struct DatasetStatus: Sendable, Codable, Equatable {
    public struct SceneCount: Sendable, Codable, Equatable {
        public let scene: String
        public let pairs: Int
        public let accepted: Int
        public let split: [String: Int]
    }

    public var captures = 0
    public var pairs = 0
    public var scenes = 0
    public var files = 0
    public var models = 0
    public var evaluations = 0
    public var byVerdict: [String: Int] = [:]
    public var bySplit: [String: Int] = [:]
    public var byReview: [String: Int] = [:]
    public var byScene: [SceneCount] = []
}

/// Which pairs `list` (and export) look at. Nil fields do not filter.
public struct PairFilter: Sendable, Equatable {
    public var scene: String?
    public var tag: String?
    public var verdict: Verdict?
    public var split: Split?
    public var review: ReviewState?
    public var captureID: CaptureID?
    public var limit: Int?
    public var offset: Int

    public init(scene: String? = nil, tag: String? = nil, verdict: Verdict? = nil, split: Split? = nil,
                review: ReviewState? = nil, captureID: CaptureID? = nil, limit: Int? = nil, offset: Int = 0) {
        self.scene = scene
        self.tag = tag
        self.verdict = verdict
        self.split = split
        self.review = review
        self.captureID = captureID
        self.limit = limit
        self.offset = offset
    }
}

extension PairFilter {
    /// The filter as a `WHERE` clause over `pair p JOIN scene s` (empty when nothing filters), values bound as
    /// arguments. Every query that filters pairs (listings, the review queue, exports) builds its clause here.
    func whereClause() -> (sql: String, arguments: StatementArguments) {
        var clauses: [String] = []
        var arguments = StatementArguments()
        func add(_ clause: String, _ value: some DatabaseValueConvertible) {
            clauses.append(clause)
            _ = arguments.append(contentsOf: [value])
        }
        if let scene { add("s.name = ?", scene) }
        if let tag { add("p.sceneId IN (SELECT sceneId FROM sceneTag WHERE tag = ?)", tag) }
        if let verdict { add("p.verdict = ?", verdict) }
        if let split { add("p.split = ?", split) }
        if let review { add("p.reviewState = ?", review) }
        if let captureID { add("p.captureId = ?", captureID) }
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), arguments)
    }
}

/// One line of `list`.
public struct PairSummary: Sendable, Codable, Equatable {
    public let id: PairID
    public let key: String
    public let name: String
    public let scene: String
    public let captureID: CaptureID?
    public let verdict: Verdict
    public let split: Split
    public let reviewState: ReviewState
}

/// A catalogued file.
public struct FileInfo: Sendable, Codable, Equatable {
    /// Relative to the dataset folder.
    public let path: String
    public let size: Int64
    public let sha256: String
}

/// One shot of a capture, as catalogued.
public struct ShotDetail: Sendable, Codable, Equatable {
    public let role: ShotRole
    public let camera: CameraIdentity
    public let settings: CameraSettings
    public let arrivalTime: Date?
    public let file: FileInfo
    /// The shot's other files (the JPEG of a RAW+JPEG shot); empty for one file.
    public let companions: [FileInfo]
}

/// A capture, as catalogued.
public struct CaptureDetail: Sendable, Codable, Equatable {
    public let id: CaptureID
    public let key: String
    public let rig: String?
    public let session: String?
    public let triggerTime: Date?
    public let skew: Double?
    public let shots: [ShotDetail]
    /// How the cameras were fired; nil for captures made before v12-capture-firing (or not by the capture pipeline).
    public var trigger: TriggerMode? = nil
    /// The largest skew the capture's rig file allowed (seconds); nil: no limit, or not recorded.
    public var maxSkew: Double? = nil

    public func shot(_ role: ShotRole) -> ShotDetail? { shots.first { $0.role == role } }
}

/// One model's scores on a pair.
public struct EvaluationDetail: Sendable, Codable, Equatable {
    public let model: String
    public let psnr: Double
    public let ssim: Double
    public let ssimGaussian: Double?
    public let mae: Double?
    public let lpips: Double?
    public let seconds: Double?
    public let output: FileInfo?
    /// How the scores were computed (nil only on a read-only catalogue from before v4-score-protocol).
    public var scoreProtocol: ScoreProtocol? = nil
    /// Why a score is missing, by column (e.g. "lpips": "LPIPS weights not installed").
    public var missing: [String: String] = [:]
    public var evaluatedAt: Date? = nil
}

/// Everything the catalogue knows about a pair (`show`, export manifests).
public struct PairDetail: Sendable, Codable, Equatable {
    public let id: PairID
    public let key: String
    public let name: String
    public let scene: String
    public let sceneNotes: String
    public let tags: [String]
    public let source: FileInfo
    public let target: FileInfo
    public let left: FileInfo?
    public let right: FileInfo?
    /// Source -> target in the cameras' original frames (see `Homography`).
    public let homography: Homography?
    public let colour: ColourFit?
    public let crop: CropRect?
    public let quality: QualityFigures
    public let verdict: Verdict
    public let reasons: [String]
    public let split: Split
    public let reviewState: ReviewState
    public let reviewNote: String
    public let origin: String
    public let capture: CaptureDetail?
    /// For a pair imported from a rigctl export: where that export says it was made.
    public let provenance: PairProvenance?
    public let evaluations: [EvaluationDetail]
}

extension PairDetail {
    /// The pair's aligned image in `role`; nil for side views it does not have.
    public func file(_ role: PairImageRole) -> FileInfo? {
        switch role {
        case .source: source
        case .target: target
        case .left: left
        case .right: right
        }
    }
}

// The records' figures are written through `FiniteFigures`: a non-finite one (only a crafted catalogue holds one)
// is null, named under `nonFinite`, never an encoding error for `show --json`, the manifest or the review API.

extension CaptureDetail {
    public func encode(to encoder: Encoder) throws {
        var figures = FiniteFigures()
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(key, forKey: .key)
        try c.encodeIfPresent(rig, forKey: .rig)
        try c.encodeIfPresent(session, forKey: .session)
        try c.encodeIfPresent(triggerTime, forKey: .triggerTime)
        try c.encodeFigure(skew, forKey: .skew, &figures)
        try c.encodeIfPresent(trigger, forKey: .trigger)
        try c.encodeFigure(maxSkew, forKey: .maxSkew, &figures)
        try c.encode(shots, forKey: .shots)
        try figures.encodeNotes(to: encoder)
    }
}

extension EvaluationDetail {
    public func encode(to encoder: Encoder) throws {
        var figures = FiniteFigures()
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encodeFigure(psnr, forKey: .psnr, &figures)
        try c.encodeFigure(ssim, forKey: .ssim, &figures)
        try c.encodeFigure(ssimGaussian, forKey: .ssimGaussian, &figures)
        try c.encodeFigure(mae, forKey: .mae, &figures)
        try c.encodeFigure(lpips, forKey: .lpips, &figures)
        try c.encodeFigure(seconds, forKey: .seconds, &figures)
        try c.encodeIfPresent(output, forKey: .output)
        try c.encodeIfPresent(scoreProtocol, forKey: .scoreProtocol)
        try c.encode(missing, forKey: .missing)
        try c.encodeIfPresent(evaluatedAt, forKey: .evaluatedAt)
        try figures.encodeNotes(to: encoder)
    }
}

extension PairDetail {
    public func encode(to encoder: Encoder) throws {
        var figures = FiniteFigures()
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(key, forKey: .key)
        try c.encode(name, forKey: .name)
        try c.encode(scene, forKey: .scene)
        try c.encode(sceneNotes, forKey: .sceneNotes)
        try c.encode(tags, forKey: .tags)
        try c.encode(source, forKey: .source)
        try c.encode(target, forKey: .target)
        try c.encodeIfPresent(left, forKey: .left)
        try c.encodeIfPresent(right, forKey: .right)
        try c.encodeIfPresent(homography, forKey: .homography)
        try c.encodeIfPresent(colour?.finite(&figures, "colour"), forKey: .colour)
        try c.encodeIfPresent(crop, forKey: .crop)
        try c.encode(figures.values(quality.values, "quality"), forKey: .quality)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(reasons, forKey: .reasons)
        try c.encode(split, forKey: .split)
        try c.encode(reviewState, forKey: .reviewState)
        try c.encode(reviewNote, forKey: .reviewNote)
        try c.encode(origin, forKey: .origin)
        try c.encodeIfPresent(capture, forKey: .capture)
        try c.encodeIfPresent(provenance, forKey: .provenance)
        try c.encode(evaluations, forKey: .evaluations)
        try figures.encodeNotes(to: encoder)
    }
}

/// What `split` assigned.
public struct SplitReport: Sendable, Equatable {
    public let testScenes: [String]
    public let trainScenes: [String]
    public let pairsBySplit: [String: Int]

    /// Scenes with usable pairs exist but the hash sent none of them to test: a later `evaluate` of the test split
    /// would find nothing, so the caller must say so.
    public var testIsEmpty: Bool { testScenes.isEmpty && !trainScenes.isEmpty }
}

extension Dataset {
    public func status() throws -> DatasetStatus {
        try read { db in
            var s = DatasetStatus()
            s.captures = try Int.fetchOne(db, sql: "SELECT count(*) FROM capture") ?? 0
            s.pairs = try Int.fetchOne(db, sql: "SELECT count(*) FROM pair") ?? 0
            s.scenes = try Int.fetchOne(db, sql: "SELECT count(*) FROM scene") ?? 0
            s.files = try Int.fetchOne(db, sql: "SELECT count(*) FROM file") ?? 0
            // The defocused input's own scores are a baseline row in `model` (name "input", no weights), not a model.
            s.models = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM model WHERE NOT (name = 'input' AND weightsSHA256 IS NULL)
                """) ?? 0
            s.evaluations = try Int.fetchOne(db, sql: "SELECT count(*) FROM evaluation") ?? 0
            // One pass over a covering index gives every count; scene names are joined in afterwards.
            var scenes: [Int64: (pairs: Int, accepted: Int, split: [String: Int])] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT sceneId, split, verdict, reviewState, count(*) FROM pair
                GROUP BY sceneId, split, verdict, reviewState
                """)
            while let row = try rows.next() {
                let sceneID: Int64 = row[0], split: String = row[1], verdict: String = row[2], review: String = row[3]
                let n: Int = row[4]
                s.bySplit[split, default: 0] += n
                s.byVerdict[verdict, default: 0] += n
                s.byReview[review, default: 0] += n
                var entry = scenes[sceneID] ?? (0, 0, [:])
                entry.pairs += n
                if verdict == Verdict.accepted.rawValue { entry.accepted += n }
                entry.split[split, default: 0] += n
                scenes[sceneID] = entry
            }
            var names: [Int64: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM scene") { names[row[0]] = row[1] }
            s.byScene = scenes.map { id, e in
                DatasetStatus.SceneCount(scene: names[id] ?? "#\(id)", pairs: e.pairs, accepted: e.accepted, split: e.split)
            }.sorted { $0.scene < $1.scene }
            return s
        }
    }

    /// Pairs matching `filter`, in id order.
    public func pairs(_ filter: PairFilter = PairFilter()) throws -> [PairSummary] {
        let (whereSQL, arguments) = filter.whereClause()
        var sql = """
            SELECT p.id, p.contentKey, p.name, s.name AS scene, p.captureId, p.verdict, p.split, p.reviewState
            FROM pair p JOIN scene s ON s.id = p.sceneId
            """ + whereSQL + " ORDER BY p.id"
        if let limit = filter.limit { sql += " LIMIT \(max(0, limit)) OFFSET \(max(0, filter.offset))" }
        else if filter.offset > 0 { sql += " LIMIT -1 OFFSET \(filter.offset)" }
        return try read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                let id: Int64 = row["id"]
                return PairSummary(id: PairID(id), key: row["contentKey"], name: row["name"], scene: row["scene"],
                                   captureID: row["captureId"], verdict: try row.vocabulary("verdict", of: "pair", id: id),
                                   split: try row.vocabulary("split", of: "pair", id: id),
                                   reviewState: try row.vocabulary("reviewState", of: "pair", id: id))
            }
        }
    }

    /// A pair by id.
    public func pair(id: PairID) throws -> PairDetail {
        try read { db in try Self.pairDetail(id: id.rawValue, in: db) }
    }

    /// A pair as a person names it: by id, or by its key (or a unique prefix of it of at least 6 characters).
    public func pair(_ reference: String) throws -> PairDetail {
        try read { db in
            var id: Int64?
            if let number = Int64(reference) {
                id = try Int64.fetchOne(db, sql: "SELECT id FROM pair WHERE id = ?", arguments: [number])
            }
            // Keys are hex, so a key prefix may look like a number: try it as a key when it is no id.
            if id == nil, reference.count >= 6, reference.allSatisfy(\.isHexDigit) {
                // A range on the key's index: every lower-case hex key with this prefix sorts before prefix + "g".
                let prefix = reference.lowercased()
                let ids = try Int64.fetchAll(db, sql: "SELECT id FROM pair WHERE contentKey >= ? AND contentKey < ? LIMIT 2",
                                             arguments: [prefix, prefix + "g"])
                id = ids.count == 1 ? ids[0] : nil
            }
            guard let id else { throw DatasetError.notFound(what: "pair", id: reference) }
            return try Self.pairDetail(id: id, in: db)
        }
    }

    /// The protocol columns of an evaluation row; nil when the catalogue predates them (a read-only open).
    /// An `evaluation` row joined with its model's name (as `model`): the one decoding of a score row.
    static func evaluationDetail(_ e: Row, in db: Database) throws -> EvaluationDetail {
        EvaluationDetail(
            model: e["model"], psnr: e["psnr"], ssim: e["ssim"], ssimGaussian: e["ssimGaussian"], mae: e["mae"],
            lpips: e["lpips"], seconds: e["seconds"], output: try fileInfo(e["outputFileId"], in: db),
            scoreProtocol: scoreProtocol(e), missing: JSONText.decode([String: String].self, e["missing"]) ?? [:],
            evaluatedAt: e["evaluatedAt"])
    }

    static func scoreProtocol(_ row: Row) -> ScoreProtocol? {
        guard let framing = (row["framing"] as String?).flatMap(ScoreProtocol.Framing.init(rawValue:)),
              let ssim = (row["ssimConvention"] as String?).flatMap(ScoreProtocol.SSIMConvention.init(rawValue:)),
              let bitDepth = row["bitDepth"] as Int?, let version = row["rigctlVersion"] as String? else { return nil }
        // A catalogue opened read-only before v11 has no channels column: its rows were all R, G, B.
        let channels = (row["channels"] as String?).map(ScoreProtocol.Channels.init(rawValue:)) ?? .rgb
        guard let channels else { return nil }
        return ScoreProtocol(framing: framing, bitDepth: bitDepth, ssim: ssim, channels: channels,
                             lpips: row["lpipsVersion"], rigctlVersion: version)
    }

    static func fileInfo(_ id: Int64?, in db: Database) throws -> FileInfo? {
        guard let id, let row = try Row.fetchOne(db, sql: "SELECT path, size, sha256 FROM file WHERE id = ?",
                                                 arguments: [id]) else { return nil }
        return FileInfo(path: row["path"], size: row["size"], sha256: row["sha256"])
    }

    static func pairDetail(id: Int64, in db: Database) throws -> PairDetail {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT p.*, s.name AS sceneName, s.notes AS sceneNotes FROM pair p JOIN scene s ON s.id = p.sceneId
            WHERE p.id = ?
            """, arguments: [id]) else { throw DatasetError.notFound(what: "pair", id: "\(id)") }
        let sceneID: Int64 = row["sceneId"]
        let tags = try String.fetchAll(db, sql: "SELECT tag FROM sceneTag WHERE sceneId = ? ORDER BY tag", arguments: [sceneID])
        guard let source = try fileInfo(row["sourceFileId"], in: db), let target = try fileInfo(row["targetFileId"], in: db)
        else { throw DatasetError.database("pair \(id) points at a missing file row") }
        var colour: ColourFit?
        if row["colourModel"] as String? != nil {
            let model: ColourModel = try row.vocabulary("colourModel", of: "pair", id: id)
            colour = ColourFit(model: model, parameters: JSONText.decode([Double].self, row["colourParameters"]) ?? [],
                               residual: row["colourResidual"])
        }
        var crop: CropRect?
        if let x: Int = row["cropX"], let y: Int = row["cropY"], let w: Int = row["cropWidth"], let h: Int = row["cropHeight"] {
            crop = CropRect(x: x, y: y, width: w, height: h)
        }
        let capture = try (row["captureId"] as Int64?).flatMap { try captureDetail(id: $0, in: db) }
        // The table is newer than what a read-only open requires (see `Schema.neededForReading`).
        let provenance = try db.tableExists("pairProvenance")
            ? JSONText.decode(PairProvenance.self, try String.fetchOne(db, sql: "SELECT record FROM pairProvenance WHERE pairId = ?",
                                                                   arguments: [id]))
            : nil
        let rows = try Row.fetchAll(db, sql: """
            SELECT m.name AS model, e.* FROM evaluation e JOIN model m ON m.id = e.modelId WHERE e.pairId = ?
            ORDER BY m.name, e.id
            """, arguments: [id])
        var evaluations: [EvaluationDetail] = []
        for e in rows { evaluations.append(try evaluationDetail(e, in: db)) }
        return PairDetail(
            id: PairID(id), key: row["contentKey"], name: row["name"], scene: row["sceneName"], sceneNotes: row["sceneNotes"],
            tags: tags, source: source, target: target,
            left: try fileInfo(row["leftFileId"], in: db), right: try fileInfo(row["rightFileId"], in: db),
            homography: JSONText.decode([Double].self, row["homography"]).flatMap { try? Homography($0) },
            colour: colour, crop: crop,
            quality: QualityFigures(JSONText.decode([String: Double].self, row["quality"]) ?? [:]),
            verdict: try row.vocabulary("verdict", of: "pair", id: id),
            reasons: JSONText.decode([String].self, row["reasons"]) ?? [], split: try row.vocabulary("split", of: "pair", id: id),
            reviewState: try row.vocabulary("reviewState", of: "pair", id: id), reviewNote: row["reviewNote"],
            origin: row["origin"],
            capture: capture, provenance: provenance, evaluations: evaluations)
    }

    static func captureDetail(id: Int64, in db: Database) throws -> CaptureDetail? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT c.*, se.name AS sessionName, r.name AS rigName FROM capture c
            LEFT JOIN session se ON se.id = c.sessionId LEFT JOIN rig r ON r.id = se.rigId WHERE c.id = ?
            """, arguments: [id]) else { return nil }
        let shots = try Row.fetchAll(db, sql: """
            SELECT sh.*, ca.make, ca.model, ca.serial FROM shot sh JOIN camera ca ON ca.id = sh.cameraId
            WHERE sh.captureId = ? ORDER BY sh.role
            """, arguments: [id]).compactMap { s -> ShotDetail? in
            guard let file = try fileInfo(s["fileId"], in: db) else { return nil }
            // A read-only catalogue of an older rigctl may lack the table (it is not needed for reading).
            let companions = try db.tableExists("shotCompanion") ? try Int64.fetchAll(db, sql: """
                SELECT sc.fileId FROM shotCompanion sc JOIN file f ON f.id = sc.fileId WHERE sc.shotId = ? ORDER BY f.path
                """, arguments: [s["id"] as Int64]).compactMap { try fileInfo($0, in: db) } : []
            return ShotDetail(
                role: try s.vocabulary("role", of: "shot", id: s["id"]), camera: CameraIdentity(make: s["make"], model: s["model"], serial: s["serial"]),
                settings: CameraSettings(aperture: s["aperture"], exposureTime: s["exposureTime"], iso: s["iso"],
                                         focalLength: s["focalLength"], captureTime: s["captureTime"]),
                arrivalTime: s["arrivalTime"], file: file, companions: companions)
        }
        var detail = CaptureDetail(id: CaptureID(id), key: row["contentKey"], rig: row["rigName"], session: row["sessionName"],
                                   triggerTime: row["triggerTime"], skew: row["skew"], shots: shots)
        // Columns of v12; a read-only catalogue of an older rigctl has neither.
        if row.hasColumn("trigger"), (row["trigger"] as DatabaseValue?)?.isNull == false {
            detail.trigger = try row.vocabulary("trigger", of: "capture", id: id) as TriggerMode
        }
        if row.hasColumn("maxSkew") { detail.maxSkew = row["maxSkew"] }
        return detail
    }

    /// Sets a person's judgement of a pair named as a person names it (id, key or key prefix).
    public func review(pair reference: String, state: ReviewState, note: String?) throws {
        try review(pairs: [try pair(reference).id], state: state, note: note)
    }

    /// Sets a person's judgement of a pair.
    public func review(pair id: PairID, state: ReviewState, note: String?) throws {
        try review(pairs: [id], state: state, note: note)
    }

    /// Whether a scene goes to the test side: a hash of the seed and the scene's name, compared with the fraction.
    /// It depends on nothing else, so adding scenes later never moves an existing scene across the split.
    public static func isTestScene(_ name: String, testFraction: Double, seed: String) -> Bool {
        let digest = Array(SHA256.hash(data: Data("\(seed)\n\(name)".utf8)))
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return Double(value) / 18_446_744_073_709_551_616.0 < testFraction
    }

    /// Assigns every usable pair (accepted or approved on review, not rejected on review) to train or test by its
    /// scene, and every other pair to unused, in one transaction. A scene never lands on both sides.
    @discardableResult
    public func assignSplit(testFraction: Double, seed: String = "rigctl") throws -> SplitReport {
        guard testFraction >= 0, testFraction <= 1 else {
            throw DatasetError.invalidInput("the test fraction must be between 0 and 1, not \(testFraction)")
        }
        return try write { db in
            // Usable is what export takes (`PairSQL.exportable`): accepted, or flagged and approved by a person, and
            // not rejected on review. A flagged pair a person approved used to stay unused, so export never wrote it.
            let usable = PairSQL.exportable
            try db.execute(sql: """
                UPDATE pair AS p SET split = :unused WHERE NOT (\(usable)) AND p.split != :unused
                """, arguments: ["unused": Split.unused])
            // Scenes with a usable pair, each to one side; then one UPDATE that touches only pairs that change.
            var test: [String] = []
            var train: [String] = []
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS testScene (id INTEGER PRIMARY KEY)")
            try db.execute(sql: "DELETE FROM temp.testScene")
            let insert = try db.makeStatement(sql: "INSERT INTO temp.testScene (id) VALUES (?)")
            for row in try Row.fetchAll(db, sql: """
                SELECT id, name FROM scene WHERE id IN (SELECT p.sceneId FROM pair p WHERE \(usable))
                ORDER BY name
                """) {
                let name: String = row[1]
                if Self.isTestScene(name, testFraction: testFraction, seed: seed) {
                    test.append(name)
                    try insert.execute(arguments: [row[0] as Int64])
                } else {
                    train.append(name)
                }
            }
            try db.execute(sql: """
                UPDATE pair AS p SET split = CASE WHEN p.sceneId IN (SELECT id FROM temp.testScene) THEN :test ELSE :train END
                WHERE \(usable)
                  AND p.split != CASE WHEN p.sceneId IN (SELECT id FROM temp.testScene) THEN :test ELSE :train END
                """, arguments: ["test": Split.test, "train": Split.train])
            try db.execute(sql: "DROP TABLE temp.testScene")
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT split, count(*) AS n FROM pair GROUP BY split") {
                counts[row["split"]] = row["n"]
            }
            return SplitReport(testScenes: test, trainScenes: train, pairsBySplit: counts)
        }
    }
}
