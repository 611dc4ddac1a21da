import Foundation
import PairVocabulary
import GRDB

extension Dataset {
    /// Copies a capture's two originals (and their shots' companion files) into `originals/<key>/` and catalogues
    /// the capture, its scene, cameras, rig and session, in one step. The key derives from both files' hashes, so ingesting the same files again
    /// returns the existing capture.
    @discardableResult
    public func ingestCapture(_ input: CaptureInput) throws -> Ingested<CaptureID> {
        try requireWritable()
        try Self.validate(scene: input.scene)
        for shot in [input.source, input.target] {
            for value in [shot.settings.aperture, shot.settings.exposureTime, shot.settings.focalLength] {
                if let value, !value.isFinite || value < 0 {
                    throw DatasetError.invalidInput("\(shot.file.path): camera settings must be finite and not negative")
                }
            }
        }
        if let skew = input.skew, !skew.isFinite { throw DatasetError.invalidInput("capture skew must be finite") }
        if let limit = input.maxSkew, !(limit.isFinite && limit > 0) {
            throw DatasetError.invalidInput("a capture's maxSkew must be a positive number of seconds")
        }
        let sourceData = try readCaptureInput(input.source.file)
        let targetData = try readCaptureInput(input.target.file)
        let sourceHash = SHA256Hex.of(sourceData)
        let targetHash = SHA256Hex.of(targetData)
        let key = String(SHA256Hex.of("capture\n\(sourceHash)\n\(targetHash)").prefix(20))
        if let id = try read({ db in
            try CaptureID.fetchOne(db, sql: "SELECT id FROM capture WHERE contentKey = ?", arguments: [key])
        }) {
            return Ingested(id: id, created: false)
        }
        let folder = "\(Folder.originals)/\(key)"
        let sourcePath = "\(folder)/source.\(SafeName.fileExtension(of: input.source.file))"
        let targetPath = "\(folder)/target.\(SafeName.fileExtension(of: input.target.file))"
        var files = [
            PlannedFile(relativePath: sourcePath, data: sourceData, sha256: sourceHash, kind: "original"),
            PlannedFile(relativePath: targetPath, data: targetData, sha256: targetHash, kind: "original"),
        ]
        // A shot's other files (RAW+JPEG) sit beside its original as `<role>-companion-N.<ext>`.
        var companionPaths: [ShotRole: [String]] = [:]
        for (role, shot) in [(ShotRole.source, input.source), (.target, input.target)] {
            for (n, url) in shot.companions.enumerated() {
                let data = try readCaptureInput(url)
                let path = "\(folder)/\(role.rawValue)-companion-\(n + 1).\(SafeName.fileExtension(of: url))"
                files.append(PlannedFile(relativePath: path, data: data, sha256: SHA256Hex.of(data), kind: "companion"))
                companionPaths[role, default: []].append(path)
            }
        }
        let now = Date()
        let id = try commitStep(files) { db, fileIDs in
            let rigID = try input.rig.map { try Self.upsertRig(named: $0, in: db) }
            let sceneID = try Self.upsertScene(input.scene, in: db)
            let sessionID = try input.session.map {
                try Self.upsertSession(named: $0, rigID: rigID, startedAt: input.triggerTime ?? now, in: db)
            }
            try db.execute(sql: """
                INSERT INTO capture (contentKey, sceneId, sessionId, triggerTime, skew, addedAt, calibration, split,
                                     trigger, maxSkew)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key, sceneID, sessionID, input.triggerTime, input.skew, now, input.calibration,
                                 input.split?.rawValue, input.trigger?.rawValue, input.maxSkew])
            let captureID = db.lastInsertedRowID
            for (role, shot, path) in [(ShotRole.source, input.source, sourcePath), (.target, input.target, targetPath)] {
                let cameraID = try Self.upsertCamera(shot.camera, role: role, rigID: rigID, in: db)
                let s = shot.settings
                try db.execute(sql: """
                    INSERT INTO shot (captureId, role, cameraId, fileId, aperture, exposureTime, iso, focalLength,
                                      captureTime, arrivalTime)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [captureID, role.rawValue, cameraID, fileIDs[path], s.aperture, s.exposureTime, s.iso,
                                     s.focalLength, s.captureTime, shot.arrivalTime])
                let shotID = db.lastInsertedRowID
                for companion in companionPaths[role] ?? [] {
                    try db.execute(sql: "INSERT OR IGNORE INTO shotCompanion (shotId, fileId) VALUES (?, ?)",
                                   arguments: [shotID, fileIDs[companion]])
                }
            }
            return captureID
        }
        return Ingested(id: CaptureID(id), created: true)
    }

    /// Copies an aligned pair's images into `aligned/<key>/` and catalogues it with its alignment figures and
    /// verdict, in one step. The key derives from the images' hashes, so adding the same images again returns the
    /// existing pair.
    @discardableResult
    public func addPair(_ input: PairInput) throws -> Ingested<PairID> {
        try addPair(input, preloaded: nil)
    }

    /// `addPair` with the images already read (and decoded) by the caller, so that the bytes checked are the bytes
    /// catalogued.
    func addPair(_ input: PairInput, preloaded: [LoadedImage]?) throws -> Ingested<PairID> {
        try requireWritable()
        try Self.validateAlignment(input)
        if input.captureID == nil {
            guard let scene = input.scene else {
                throw DatasetError.invalidInput("pair \(input.name): a pair without a capture needs a scene")
            }
            try Self.validate(scene: scene)
        } else if let scene = input.scene {
            try Self.validate(scene: scene)
        }
        let (files, paths, key) = try Self.pairFiles(input, preloaded: preloaded)
        if let id = try read({ db in
            try PairID.fetchOne(db, sql: "SELECT id FROM pair WHERE contentKey = ?", arguments: [key])
        }) {
            return Ingested(id: id, created: false)
        }
        var verdict = input.verdict
        var reasonList = input.reasons
        if input.captureID != nil, let twin = try identicalPair(to: files, paths: paths) {
            // Kept, never merged; a person decides (the review queue shows the reason).
            reasonList.append("identical images to pair \(twin.id) [\(twin.scene)]: the cameras sent the same frames "
                + "again (a restarted camera, or a file taken twice)")
            if verdict == .accepted { verdict = .review }
        }
        let quality = try JSONText.encode(input.quality)
        let reasons = try JSONText.encode(reasonList)
        let homography = try input.homography.map { try JSONText.encode($0.m) }
        let colourParameters = try input.colour.map { try JSONText.encode($0.parameters) }
        let provenance = try input.provenance.map { try JSONText.encode($0) }
        let now = Date()
        let id = try commitStep(files) { db, fileIDs in
            let sceneID: Int64
            if let captureID = input.captureID {
                guard let captureScene = try Int64.fetchOne(db, sql: "SELECT sceneId FROM capture WHERE id = ?",
                                                            arguments: [captureID]) else {
                    throw DatasetError.notFound(what: "capture", id: "\(captureID)")
                }
                sceneID = captureScene
            } else {
                // Checked above: a pair without a capture has a scene.
                sceneID = try Self.upsertScene(input.scene ?? SceneInput(name: input.name), in: db)
            }
            try db.execute(sql: """
                INSERT INTO pair (contentKey, captureId, sceneId, name, sourceFileId, targetFileId, leftFileId, rightFileId,
                                  homography, colourModel, colourParameters, colourResidual,
                                  cropX, cropY, cropWidth, cropHeight, quality, verdict, reasons, split, origin, addedAt,
                                  calibration)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    key, input.captureID, sceneID, input.name,
                    paths[.source].flatMap { fileIDs[$0] }, paths[.target].flatMap { fileIDs[$0] },
                    paths[.left].flatMap { fileIDs[$0] }, paths[.right].flatMap { fileIDs[$0] },
                    homography, input.colour?.model, colourParameters, input.colour?.residual,
                    input.crop?.x, input.crop?.y, input.crop?.width, input.crop?.height,
                    quality, verdict, reasons, input.split, input.origin, now, input.calibration,
                ])
            let pairID = db.lastInsertedRowID
            if let provenance {
                try db.execute(sql: "INSERT INTO pairProvenance (pairId, record) VALUES (?, ?)", arguments: [pairID, provenance])
            }
            return pairID
        }
        return Ingested(id: PairID(id), created: true)
    }

    /// Another pair whose source and target files have the same bytes as the planned ones, if there is one.
    func identicalPair(to files: [PlannedFile], paths: [PairImageRole: String]) throws -> (id: Int64, scene: String)? {
        func sha(_ role: PairImageRole) -> String? { files.first { $0.relativePath == paths[role] }?.sha256 }
        guard let source = sha(.source), let target = sha(.target) else { return nil }
        return try read { db in
            try Row.fetchOne(db, sql: """
                SELECT p.id, s.name FROM pair p
                JOIN file fs ON fs.id = p.sourceFileId JOIN file ft ON ft.id = p.targetFileId JOIN scene s ON s.id = p.sceneId
                WHERE fs.sha256 = ? AND ft.sha256 = ? ORDER BY p.id LIMIT 1
                """, arguments: [source, target]).map { ($0[0], $0[1]) }
        }
    }

    /// The checks on a pair's alignment figures, before anything is written.
    static func validateAlignment(_ input: PairInput) throws {
        // A homography is 9 finite, non-singular numbers by construction (`Homography`).
        if let colour = input.colour {
            guard colour.matrix.count == 9, colour.offset.count == 3, colour.parameters.allSatisfy(\.isFinite),
                  colour.residual?.isFinite ?? true else {
                throw DatasetError.invalidInput("pair \(input.name): the \(colour.model) colour fit needs 9 + 3 finite numbers")
            }
        }
        if let c = input.crop, c.x < 0 || c.y < 0 || c.width <= 0 || c.height <= 0 {
            throw DatasetError.invalidInput("pair \(input.name): crop \(c.width)x\(c.height)+\(c.x)+\(c.y) is not a rectangle")
        }
        // Quality figures are finite by construction (`QualityFigures` keeps no other).
    }

    /// A pair's images read (unless the caller already did), hashed and planned under `aligned/<key>/`, with each
    /// role's planned path and the key that derives from their hashes.
    static func pairFiles(_ input: PairInput, preloaded: [LoadedImage]?) throws
        -> (files: [PlannedFile], paths: [PairImageRole: String], key: String) {
        var images: [(role: PairImageRole, url: URL)] = [(.source, input.source), (.target, input.target)]
        if let left = input.left { images.append((.left, left)) }
        if let right = input.right { images.append((.right, right)) }
        let loaded = try preloaded ?? images.map { image -> LoadedImage in
            let data = try Self.readInput(image.url)
            return LoadedImage(role: image.role, url: image.url, data: data, image: PNGHeader(data).flatMap { ImageInfo($0) })
        }
        let hashes = PairImageRole.allCases.map { role in loaded.first { $0.role == role }?.sha ?? "" }
        // A captured pair is its capture's: two captures whose aligned images came out identical (a restarted
        // camera sending the same frames) are two pairs, each in its own scene, never one pair filed under the first.
        // An imported pair is known by its images alone, so importing a set again adds nothing.
        let capture = input.captureID.map { "\ncapture \($0)" } ?? input.identity.map { "\nidentity \($0)" } ?? ""
        let key = String(SHA256Hex.of("pair\n" + hashes.joined(separator: "\n") + capture).prefix(20))
        var paths: [PairImageRole: String] = [:]
        let files = loaded.map {
            let path = "\(Folder.aligned)/\(key)/\($0.role.rawValue).\(SafeName.fileExtension(of: $0.url))"
            paths[$0.role] = path
            return PlannedFile(relativePath: path, data: $0.data, sha256: $0.sha, kind: "aligned", image: $0.image)
        }
        return (files, paths, key)
    }

    /// Copies a weights file into `models/<hash>/` and catalogues the model. Registering the same name with the same
    /// weights again returns the existing model; the same name with other weights is refused.
    @discardableResult
    public func registerModel(_ input: ModelInput) throws -> Ingested<Int64> {
        try requireWritable()
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw DatasetError.invalidInput("a model needs a name") }
        // A newline or tab in a name would split the tab-separated listings and tables that show it.
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw DatasetError.invalidInput("model name \(name.debugDescription) contains a control character (a newline or tab)")
        }
        guard let weights = input.weights else {
            // A baseline: identified by its name alone.
            if let row = try read({ db in
                try Row.fetchOne(db, sql: "SELECT id, weightsSHA256 FROM model WHERE name = ?", arguments: [name])
            }) {
                let known: String? = row["weightsSHA256"]
                guard known == nil else {
                    throw DatasetError.invalidInput("model \(name) is already registered with weights (SHA-256 \(known!))")
                }
                return Ingested(id: row["id"], created: false)
            }
            let id = try commitStep([]) { db, _ in
                try db.execute(sql: """
                    INSERT INTO model (name, parameterCount, macs, notes, addedAt) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [name, input.cost?.parameters, input.cost?.macs, input.notes, Date()])
                return db.lastInsertedRowID
            }
            return Ingested(id: id, created: true)
        }
        let data = try Self.readInput(weights)
        let sha = SHA256Hex.of(data)
        if let row = try read({ db in
            try Row.fetchOne(db, sql: "SELECT id, weightsSHA256 FROM model WHERE name = ?", arguments: [name])
        }) {
            let known: String? = row["weightsSHA256"]
            guard known == sha else {
                throw DatasetError.invalidInput("model \(name) is already registered with other weights (SHA-256 \(known ?? "none"))")
            }
            return Ingested(id: row["id"], created: false)
        }
        let stem = SafeName.component(weights.deletingPathExtension().lastPathComponent, fallback: "weights")
        let path = "\(Folder.models)/\(sha.prefix(16))/\(stem).\(SafeName.fileExtension(of: weights))"
        let id = try commitStep([PlannedFile(relativePath: path, data: data, sha256: sha, kind: "weights")]) { db, ids in
            try db.execute(sql: """
                INSERT INTO model (name, weightsFileId, weightsSHA256, parameterCount, macs, notes, addedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, ids[path], sha, input.cost?.parameters, input.cost?.macs, input.notes, Date()])
            return db.lastInsertedRowID
        }
        return Ingested(id: id, created: true)
    }

    /// Records one model's scores on one pair under one protocol, copying its output image into `outputs/` (or
    /// pointing at an output already catalogued). A row of the same pair, model and protocol identity is replaced;
    /// another protocol adds a row. No output is ever deleted here: a replaced row's output stays catalogued, and a
    /// row recorded without an output keeps the one it had.
    @discardableResult
    public func recordEvaluation(_ input: EvaluationInput) throws -> Ingested<Int64> {
        try requireWritable()
        for (name, value) in [("psnr", input.psnr), ("ssim", input.ssim), ("ssimGaussian", input.ssimGaussian),
                              ("mae", input.mae), ("lpips", input.lpips), ("seconds", input.seconds)] {
            if let value, !value.isFinite {
                throw DatasetError.invalidInput("evaluation of pair \(input.pairID): \(name) = \(value) is not a valid score")
            }
        }
        guard let pairKey = try read({ db in
            try String.fetchOne(db, sql: "SELECT contentKey FROM pair WHERE id = ?", arguments: [input.pairID])
        }) else { throw DatasetError.notFound(what: "pair", id: "\(input.pairID)") }
        guard try read({ db in try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM model WHERE id = ?)",
                                                 arguments: [input.modelID]) ?? false }) else {
            throw DatasetError.notFound(what: "model", id: "\(input.modelID)")
        }
        if let fileID = input.outputFileID, try read({ db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM file WHERE id = ? AND kind = 'output')",
                              arguments: [fileID]) ?? false
        }) == false {
            throw DatasetError.notFound(what: "output file", id: "\(fileID)")
        }
        var files: [PlannedFile] = []
        if let output = input.output {
            let data = try Self.readInput(output)
            let sha = SHA256Hex.of(data)
            let path = "\(Folder.outputs)/m\(input.modelID)/\(pairKey)-\(sha.prefix(12)).\(SafeName.fileExtension(of: output))"
            // The same bytes already kept (a re-run of deterministic weights) are pointed at, not copied again.
            files.append(PlannedFile(relativePath: path, data: data, sha256: sha, kind: "output"))
        }
        return try recordEvaluation(with: input, outputFileID: input.outputFileID, files: files)
    }

    private func recordEvaluation(with input: EvaluationInput, outputFileID: Int64?, files: [PlannedFile]) throws -> Ingested<Int64> {
        let now = Date()
        let scoring = input.effectiveProtocol
        let missing = try JSONText.encode(input.missing)
        var created = false
        let id = try commitStep(files) { db, ids in
            let outputID = files.first.flatMap { ids[$0.relativePath] } ?? outputFileID
            if let row = try Row.fetchOne(db, sql: """
                SELECT id FROM evaluation
                WHERE pairId = ? AND modelId = ? AND framing = ? AND bitDepth = ? AND ssimConvention = ? AND channels = ?
                """, arguments: [input.pairID, input.modelID, scoring.framing.rawValue, scoring.bitDepth,
                                 scoring.ssim.rawValue, scoring.channels.rawValue]) {
                let id: Int64 = row["id"]
                try db.execute(sql: """
                    UPDATE evaluation SET outputFileId = coalesce(?, outputFileId), psnr = ?, ssim = ?,
                        ssimGaussian = ?, mae = ?, lpips = ?, seconds = ?, evaluatedAt = ?, lpipsVersion = ?,
                        rigctlVersion = ?, missing = ? WHERE id = ?
                    """, arguments: [outputID, input.psnr, input.ssim, input.ssimGaussian, input.mae, input.lpips,
                                     input.seconds, now, scoring.lpips, scoring.rigctlVersion, missing, id])
                return id
            }
            try db.execute(sql: """
                INSERT INTO evaluation (pairId, modelId, outputFileId, psnr, ssim, ssimGaussian, mae, lpips, seconds,
                                        evaluatedAt, framing, bitDepth, ssimConvention, channels, lpipsVersion, rigctlVersion,
                                        missing)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [input.pairID, input.modelID, outputID, input.psnr, input.ssim, input.ssimGaussian,
                                 input.mae, input.lpips, input.seconds, now, scoring.framing.rawValue, scoring.bitDepth,
                                 scoring.ssim.rawValue, scoring.channels.rawValue, scoring.lpips, scoring.rigctlVersion,
                                 missing])
            created = true
            return db.lastInsertedRowID
        }
        sweepBetweenSteps()
        return Ingested(id: id, created: created)
    }

    // MARK: - Shared rows

    static func validate(scene: SceneInput) throws {
        guard !scene.name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw DatasetError.invalidInput("a scene needs a name")
        }
        if scene.tags.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw DatasetError.invalidInput("scene \(scene.name): tags must not be empty")
        }
    }

    static func upsertScene(_ scene: SceneInput, in db: Database) throws -> Int64 {
        let id: Int64
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM scene WHERE name = ?", arguments: [scene.name]) {
            id = existing
            if !scene.notes.isEmpty {
                try db.execute(sql: "UPDATE scene SET notes = ? WHERE id = ?", arguments: [scene.notes, id])
            }
        } else {
            try db.execute(sql: "INSERT INTO scene (name, notes) VALUES (?, ?)", arguments: [scene.name, scene.notes])
            id = db.lastInsertedRowID
        }
        for tag in scene.tags {
            try db.execute(sql: "INSERT OR IGNORE INTO sceneTag (sceneId, tag) VALUES (?, ?)",
                           arguments: [id, tag.trimmingCharacters(in: .whitespaces)])
        }
        return id
    }

    static func upsertRig(named name: String, in db: Database) throws -> Int64 {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM rig WHERE name = ?", arguments: [name]) { return id }
        try db.execute(sql: "INSERT INTO rig (name) VALUES (?)", arguments: [name])
        return db.lastInsertedRowID
    }

    static func upsertSession(named name: String, rigID: Int64?, startedAt: Date, in db: Database) throws -> Int64 {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM session WHERE name = ?", arguments: [name]) { return id }
        try db.execute(sql: "INSERT INTO session (name, rigId, startedAt) VALUES (?, ?, ?)",
                       arguments: [name, rigID, startedAt])
        return db.lastInsertedRowID
    }

    static func upsertCamera(_ camera: CameraIdentity, role: ShotRole, rigID: Int64?, in db: Database) throws -> Int64 {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM camera WHERE make = ? AND model = ? AND serial = ?",
                                       arguments: [camera.make, camera.model, camera.serial]) {
            try db.execute(sql: "UPDATE camera SET role = ?, rigId = coalesce(?, rigId) WHERE id = ?",
                           arguments: [role.rawValue, rigID, id])
            return id
        }
        try db.execute(sql: "INSERT INTO camera (rigId, make, model, serial, role) VALUES (?, ?, ?, ?, ?)",
                       arguments: [rigID, camera.make, camera.model, camera.serial, role.rawValue])
        return db.lastInsertedRowID
    }
}

/// An image of a pair, read and hashed, with its pixel format when known.
struct LoadedImage {
    let role: PairImageRole
    /// Where it came from (its extension names the stored file; messages name it).
    let url: URL
    let data: Data
    let sha: String
    let image: ImageInfo?

    init(role: PairImageRole, url: URL, data: Data, image: ImageInfo?) {
        self.role = role
        self.url = url
        self.data = data
        self.sha = SHA256Hex.of(data)
        self.image = image
    }
}

/// Width, height, channels and bits per sample of a catalogued image (recorded in the `file` table).
struct ImageInfo: Equatable {
    let width: Int
    let height: Int
    let channels: Int
    let bitDepth: Int

    init(width: Int, height: Int, channels: Int, bitDepth: Int) {
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
    }

    /// From a PNG's header alone (palette images count as the RGB they expand to).
    init?(_ header: PNGHeader) {
        let channels: Int
        switch header.colourType {
        case 0: channels = 1
        case 2, 3: channels = 3
        case 4: channels = 2
        case 6: channels = 4
        default: return nil
        }
        guard header.width > 0, header.height > 0 else { return nil }
        self.init(width: header.width, height: header.height, channels: channels,
                  bitDepth: header.colourType == 3 ? 8 : header.bitDepth)
    }
}

/// JSON text columns: sorted keys, so equal values give equal text.
enum JSONText {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw DatasetError.invalidInput("cannot encode \(value) as JSON: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}
