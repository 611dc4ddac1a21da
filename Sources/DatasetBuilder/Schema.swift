import GRDB
import PairVocabulary

/// The catalogue's tables. Every change after the first release is a new migration appended here, never an edit
/// of an old one, so that any older catalogue opens and is brought up to date.
enum Schema {
    /// The migrations reading commands depend on. Later ones only add columns that reads do not use, so a
    /// read-only open (a read-only mount cannot be upgraded) accepts a catalogue that lacks them.
    static let neededForReading: Set<String> = ["v1", "v2-status-index"]

    /// rigctl leaves SQLite's `user_version` at 0; a higher one is a newer rigctl's mark.
    static let userVersion = 0

    /// Why the catalogue comes from a newer rigctl - migrations this one does not know, or a higher
    /// `user_version` - naming both versions; nil when this rigctl knows everything in it.
    static func newerSchema(_ db: Database) throws -> String? {
        let known = migrator.migrations
        let unknown = try migrator.appliedIdentifiers(db).filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            return "its migrations include \(unknown.joined(separator: ", ")); this rigctl knows up to \(known.last ?? "none")"
        }
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        if version > userVersion { return "its schema version is \(version); this rigctl writes version \(userVersion)" }
        return nil
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                -- Every file the dataset holds, by path relative to the dataset folder.
                CREATE TABLE file (
                    id INTEGER PRIMARY KEY,
                    path TEXT NOT NULL UNIQUE,
                    size INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    addedAt DATETIME NOT NULL
                );
                CREATE INDEX file_sha256 ON file(sha256);

                -- Write-ahead journal: paths about to be written. A path still listed here on open belongs to a step
                -- that never committed; its file is removed.
                CREATE TABLE pendingFile (path TEXT PRIMARY KEY NOT NULL);

                CREATE TABLE rig (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    notes TEXT NOT NULL DEFAULT ''
                );
                CREATE TABLE camera (
                    id INTEGER PRIMARY KEY,
                    rigId INTEGER REFERENCES rig(id),
                    make TEXT NOT NULL,
                    model TEXT NOT NULL,
                    serial TEXT NOT NULL,
                    role TEXT NOT NULL,
                    UNIQUE (make, model, serial)
                );
                CREATE TABLE session (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    rigId INTEGER REFERENCES rig(id),
                    startedAt DATETIME NOT NULL,
                    notes TEXT NOT NULL DEFAULT ''
                );
                CREATE TABLE scene (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    notes TEXT NOT NULL DEFAULT ''
                );
                CREATE TABLE sceneTag (
                    sceneId INTEGER NOT NULL REFERENCES scene(id) ON DELETE CASCADE,
                    tag TEXT NOT NULL,
                    PRIMARY KEY (sceneId, tag)
                ) WITHOUT ROWID;
                CREATE INDEX sceneTag_tag ON sceneTag(tag);

                CREATE TABLE capture (
                    id INTEGER PRIMARY KEY,
                    contentKey TEXT NOT NULL UNIQUE,
                    sceneId INTEGER NOT NULL REFERENCES scene(id),
                    sessionId INTEGER REFERENCES session(id),
                    triggerTime DATETIME,
                    skew DOUBLE,
                    addedAt DATETIME NOT NULL
                );
                CREATE INDEX capture_scene ON capture(sceneId);
                CREATE TABLE shot (
                    id INTEGER PRIMARY KEY,
                    captureId INTEGER NOT NULL REFERENCES capture(id) ON DELETE CASCADE,
                    role TEXT NOT NULL,
                    cameraId INTEGER NOT NULL REFERENCES camera(id),
                    fileId INTEGER NOT NULL REFERENCES file(id),
                    aperture DOUBLE,
                    exposureTime DOUBLE,
                    iso INTEGER,
                    focalLength DOUBLE,
                    captureTime DATETIME,
                    arrivalTime DATETIME,
                    UNIQUE (captureId, role)
                );

                CREATE TABLE pair (
                    id INTEGER PRIMARY KEY,
                    contentKey TEXT NOT NULL UNIQUE,
                    captureId INTEGER REFERENCES capture(id),
                    sceneId INTEGER NOT NULL REFERENCES scene(id),
                    name TEXT NOT NULL,
                    sourceFileId INTEGER NOT NULL REFERENCES file(id),
                    targetFileId INTEGER NOT NULL REFERENCES file(id),
                    leftFileId INTEGER REFERENCES file(id),
                    rightFileId INTEGER REFERENCES file(id),
                    homography TEXT,
                    colourModel TEXT,
                    colourParameters TEXT,
                    colourResidual DOUBLE,
                    cropX INTEGER, cropY INTEGER, cropWidth INTEGER, cropHeight INTEGER,
                    quality TEXT NOT NULL DEFAULT '{}',
                    verdict TEXT NOT NULL,
                    reasons TEXT NOT NULL DEFAULT '[]',
                    split TEXT NOT NULL DEFAULT 'unused',
                    reviewState TEXT NOT NULL DEFAULT 'unreviewed',
                    reviewNote TEXT NOT NULL DEFAULT '',
                    origin TEXT NOT NULL DEFAULT '',
                    addedAt DATETIME NOT NULL
                );
                CREATE INDEX pair_scene ON pair(sceneId);
                CREATE INDEX pair_capture ON pair(captureId);
                CREATE INDEX pair_verdict_split ON pair(verdict, split);
                CREATE INDEX pair_split ON pair(split);
                CREATE INDEX pair_review ON pair(reviewState);

                CREATE TABLE model (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    weightsFileId INTEGER REFERENCES file(id),
                    weightsSHA256 TEXT,
                    parameterCount INTEGER,
                    macs INTEGER,
                    notes TEXT NOT NULL DEFAULT '',
                    addedAt DATETIME NOT NULL
                );
                CREATE TABLE evaluation (
                    id INTEGER PRIMARY KEY,
                    pairId INTEGER NOT NULL REFERENCES pair(id),
                    modelId INTEGER NOT NULL REFERENCES model(id),
                    outputFileId INTEGER REFERENCES file(id),
                    psnr DOUBLE NOT NULL,
                    ssim DOUBLE NOT NULL,
                    ssimGaussian DOUBLE,
                    mae DOUBLE,
                    lpips DOUBLE,
                    seconds DOUBLE,
                    evaluatedAt DATETIME NOT NULL,
                    UNIQUE (pairId, modelId)
                );
                CREATE INDEX evaluation_model ON evaluation(modelId);
                """)
        }
        migrator.registerMigration("v2-status-index") { db in
            // Covers `status`: one index scan yields the counts by scene, split, verdict and review state.
            try db.execute(sql: "CREATE INDEX pair_status ON pair(sceneId, split, verdict, reviewState)")
        }
        migrator.registerMigration("v3-image-info") { db in
            // The pixel format of catalogued images, known from decoding them on import (NULL for other files).
            try db.execute(sql: """
                ALTER TABLE file ADD COLUMN width INTEGER;
                ALTER TABLE file ADD COLUMN height INTEGER;
                ALTER TABLE file ADD COLUMN channels INTEGER;
                ALTER TABLE file ADD COLUMN bitDepth INTEGER;
                """)
        }
        migrator.registerMigration("v4-score-protocol") { db in
            // Every score row records how it was computed, and a pair and model may have one row per protocol
            // (framing, bit depth, SSIM convention) instead of one row overwritten by every evaluation. Existing
            // rows are carried forward with the protocol inferred from what the two writers of v1-v3 did:
            // - the capture pipeline scored whole images quantised to 16 bits, stored the model's output
            //   (outputFileId set) and recorded the input's row with seconds = 0 exactly;
            // - `rigctl evaluate` cropped to multiples of 8 by default, never stored an output and timed every
            //   method, the input included (seconds > 0).
            // So: a model with weights and an output, or the baseline "input" with seconds = 0, was scored by the
            // pipeline (whole, 16-bit); every other row by evaluate (crop-8, the bit depth of the pair's stored
            // target where the file table knows it, 16 for captured pairs, else 0 = unknown). An `evaluate
            // --no-crop` run cannot be told apart and is carried forward as crop-8. SSIM was always scikit-image's
            // uniform 7x7; a non-NULL LPIPS was always v0.1 alex; a NULL one means the weights were not installed.
            try db.execute(sql: """
                CREATE TABLE evaluation_v4 (
                    id INTEGER PRIMARY KEY,
                    pairId INTEGER NOT NULL REFERENCES pair(id),
                    modelId INTEGER NOT NULL REFERENCES model(id),
                    outputFileId INTEGER REFERENCES file(id),
                    psnr DOUBLE NOT NULL,
                    ssim DOUBLE NOT NULL,
                    ssimGaussian DOUBLE,
                    mae DOUBLE,
                    lpips DOUBLE,
                    seconds DOUBLE,
                    evaluatedAt DATETIME NOT NULL,
                    -- The protocol (ScoreProtocol): 'whole' or 'crop-8'; bits per sample of the compared images
                    -- (0 = unknown); the convention of the ssim column; LPIPS version and backbone (NULL without
                    -- LPIPS); the rigctl release that computed the row.
                    framing TEXT NOT NULL,
                    bitDepth INTEGER NOT NULL,
                    ssimConvention TEXT NOT NULL,
                    lpipsVersion TEXT,
                    rigctlVersion TEXT NOT NULL,
                    -- Why a score is missing, as a JSON object {"lpips": "LPIPS weights not installed"}.
                    missing TEXT NOT NULL DEFAULT '{}',
                    UNIQUE (pairId, modelId, framing, bitDepth, ssimConvention)
                );
                INSERT INTO evaluation_v4 (id, pairId, modelId, outputFileId, psnr, ssim, ssimGaussian, mae, lpips,
                                           seconds, evaluatedAt, framing, bitDepth, ssimConvention, lpipsVersion,
                                           rigctlVersion, missing)
                SELECT e.id, e.pairId, e.modelId, e.outputFileId, e.psnr, e.ssim, e.ssimGaussian, e.mae, e.lpips,
                       e.seconds, e.evaluatedAt, w.framing,
                       CASE WHEN w.framing = 'whole' THEN 16
                            ELSE coalesce(t.bitDepth, CASE WHEN p.origin = 'capture' THEN 16 ELSE 0 END) END,
                       'skimage-uniform-7x7',
                       CASE WHEN e.lpips IS NOT NULL THEN 'v0.1 alex' END,
                       'before v4-score-protocol (protocol inferred)',
                       CASE WHEN e.lpips IS NULL
                            THEN '{"lpips":"LPIPS weights were not installed when this row was scored"}'
                            ELSE '{}' END
                FROM evaluation e
                JOIN model m ON m.id = e.modelId
                JOIN pair p ON p.id = e.pairId
                LEFT JOIN file t ON t.id = p.targetFileId
                JOIN (SELECT e2.id AS id,
                             CASE WHEN (m2.weightsSHA256 IS NOT NULL AND e2.outputFileId IS NOT NULL)
                                    OR (m2.weightsSHA256 IS NULL AND m2.name = 'input' AND e2.seconds = 0)
                                  THEN 'whole' ELSE 'crop-8' END AS framing
                      FROM evaluation e2 JOIN model m2 ON m2.id = e2.modelId) w ON w.id = e.id;
                DROP TABLE evaluation;
                ALTER TABLE evaluation_v4 RENAME TO evaluation;
                CREATE INDEX evaluation_model ON evaluation(modelId);
                """)
        }
        migrator.registerMigration("v5-capture-calibration") { db in
            // How a capture is to be processed, kept with it so that `process` after a killed capture aligns it as
            // the capture would have: the rig file's alignment calibration (canonical JSON; NULL for captures made
            // before this migration, whose calibration is unknown) and the split the capture asked for (NULL: the
            // side its scene is on). `pair.calibration` is the calibration a pair's verdict was reached with (NULL:
            // unknown), so a pair aligned with another one can be found and re-aligned. Scores of a pair computed
            // on aligned images that re-aligning replaced are kept in `staleEvaluation`, one JSON record each.
            try db.execute(sql: """
                ALTER TABLE capture ADD COLUMN calibration TEXT;
                ALTER TABLE capture ADD COLUMN split TEXT;
                ALTER TABLE pair ADD COLUMN calibration TEXT;
                CREATE TABLE staleEvaluation (
                    id INTEGER PRIMARY KEY,
                    pairId INTEGER NOT NULL REFERENCES pair(id),
                    pairKey TEXT NOT NULL,
                    model TEXT NOT NULL,
                    outputFileId INTEGER REFERENCES file(id),
                    record TEXT NOT NULL,
                    staleSince DATETIME NOT NULL
                );
                CREATE INDEX staleEvaluation_pair ON staleEvaluation(pairId);
                """)
        }
        migrator.registerMigration("v6-vocabulary") { db in
            // One spelling per colour model (the pair vocabulary's): early synthetic catalogues wrote "affine3x4"
            // and "gain" for the models the aligner calls "affine" and "gain-offset".
            try db.execute(sql: "UPDATE pair SET colourModel = 'affine' WHERE colourModel = 'affine3x4'")
            try db.execute(sql: "UPDATE pair SET colourModel = 'gain-offset' WHERE colourModel = 'gain'")
        }
        migrator.registerMigration("v7-views") { db in
            // Views for the questions a lab asks of its catalogue (docs/dataset.md has example queries).
            try db.execute(sql: """
                -- Mean scores per scene and model, one row per protocol: rows of different protocols never mix.
                CREATE VIEW sceneScores AS
                SELECT s.name AS scene, m.name AS model, e.framing, e.bitDepth, e.ssimConvention, e.lpipsVersion,
                       count(*) AS pairs, avg(e.psnr) AS psnr, avg(e.ssim) AS ssim, avg(e.ssimGaussian) AS ssimGaussian,
                       avg(e.mae) AS mae, avg(e.lpips) AS lpips
                FROM evaluation e JOIN pair p ON p.id = e.pairId JOIN scene s ON s.id = p.sceneId
                JOIN model m ON m.id = e.modelId
                GROUP BY s.name, m.name, e.framing, e.bitDepth, e.ssimConvention, e.lpipsVersion;

                -- Pairs a person should look at: sent to review and not judged yet, or flagged.
                CREATE VIEW pairsNeedingReview AS
                SELECT p.id, p.name, s.name AS scene, p.verdict, p.reviewState, p.reviewNote, p.reasons
                FROM pair p JOIN scene s ON s.id = p.sceneId
                WHERE (p.verdict = 'review' AND p.reviewState = 'unreviewed') OR p.reviewState = 'flagged';

                -- Every pair's alignment figures as columns (NULL where the pair has none, e.g. imports).
                CREATE VIEW pairAlignment AS
                SELECT p.id, p.name, s.name AS scene, p.verdict, p.reviewState, p.split,
                       json_extract(p.quality, '$.p95Shift') AS p95Shift,
                       json_extract(p.quality, '$.maxShift') AS maxShift,
                       json_extract(p.quality, '$.correlation') AS correlation,
                       json_extract(p.quality, '$.overlap') AS overlap,
                       json_extract(p.quality, '$.clipped') AS clipped,
                       p.colourResidual
                FROM pair p JOIN scene s ON s.id = p.sceneId
                WHERE json_valid(p.quality);
                """)
        }
        migrator.registerMigration("v8-shot-companions") { db in
            // The other files of a shot (the JPEG of a RAW+JPEG shot): kept with the shot, never used by a pair.
            try db.execute(sql: """
                CREATE TABLE shotCompanion (
                    shotId INTEGER NOT NULL REFERENCES shot(id) ON DELETE CASCADE,
                    fileId INTEGER NOT NULL REFERENCES file(id),
                    PRIMARY KEY (shotId, fileId)
                ) WITHOUT ROWID;
                CREATE INDEX shotCompanion_file ON shotCompanion(fileId);
                """)
        }
        migrator.registerMigration("v9-pair-provenance") { db in
            // What a rigctl export recorded about an imported pair's cameras and files (`PairProvenance`, JSON).
            try db.execute(sql: """
                CREATE TABLE pairProvenance (
                    pairId INTEGER PRIMARY KEY REFERENCES pair(id) ON DELETE CASCADE,
                    record TEXT NOT NULL CHECK (json_valid(record))
                );
                """)
        }
        migrator.registerMigration("v10-scoring-protocols") { db in
            // The evaluation protocols capture and `process` score every pair in (`EvaluationProtocol` names, in
            // order); none listed means the default, `dpdd` (`Dataset.defaultScoringProtocols`).
            try db.execute(sql: """
                CREATE TABLE scoringProtocol (
                    name TEXT PRIMARY KEY NOT NULL,
                    position INTEGER NOT NULL UNIQUE
                );
                """)
        }
        migrator.registerMigration("v11-score-channels") { db in
            // What a row's PSNR and SSIM compared (`ScoreProtocol.Channels`): 'rgb', as every earlier row did, or
            // 'y-bt601' (the basicsr-y protocol's luma). It joins the protocol identity, so the table is rebuilt
            // with the wider UNIQUE constraint; the view that reads it is rebuilt around it with the column added.
            try db.execute(sql: """
                DROP VIEW sceneScores;
                CREATE TABLE evaluation_v11 (
                    id INTEGER PRIMARY KEY,
                    pairId INTEGER NOT NULL REFERENCES pair(id),
                    modelId INTEGER NOT NULL REFERENCES model(id),
                    outputFileId INTEGER REFERENCES file(id),
                    psnr DOUBLE NOT NULL,
                    ssim DOUBLE NOT NULL,
                    ssimGaussian DOUBLE,
                    mae DOUBLE,
                    lpips DOUBLE,
                    seconds DOUBLE,
                    evaluatedAt DATETIME NOT NULL,
                    framing TEXT NOT NULL,
                    bitDepth INTEGER NOT NULL,
                    ssimConvention TEXT NOT NULL,
                    lpipsVersion TEXT,
                    rigctlVersion TEXT NOT NULL,
                    missing TEXT NOT NULL DEFAULT '{}',
                    channels TEXT NOT NULL DEFAULT 'rgb',
                    UNIQUE (pairId, modelId, framing, bitDepth, ssimConvention, channels)
                );
                INSERT INTO evaluation_v11 (id, pairId, modelId, outputFileId, psnr, ssim, ssimGaussian, mae, lpips,
                                            seconds, evaluatedAt, framing, bitDepth, ssimConvention, lpipsVersion,
                                            rigctlVersion, missing)
                SELECT id, pairId, modelId, outputFileId, psnr, ssim, ssimGaussian, mae, lpips, seconds, evaluatedAt,
                       framing, bitDepth, ssimConvention, lpipsVersion, rigctlVersion, missing
                FROM evaluation;
                DROP TABLE evaluation;
                ALTER TABLE evaluation_v11 RENAME TO evaluation;
                CREATE INDEX evaluation_model ON evaluation(modelId);

                -- Mean scores per scene and model, one row per protocol: rows of different protocols never mix.
                CREATE VIEW sceneScores AS
                SELECT s.name AS scene, m.name AS model, e.framing, e.bitDepth, e.ssimConvention, e.channels,
                       e.lpipsVersion, count(*) AS pairs, avg(e.psnr) AS psnr, avg(e.ssim) AS ssim,
                       avg(e.ssimGaussian) AS ssimGaussian, avg(e.mae) AS mae, avg(e.lpips) AS lpips
                FROM evaluation e JOIN pair p ON p.id = e.pairId JOIN scene s ON s.id = p.sceneId
                JOIN model m ON m.id = e.modelId
                GROUP BY s.name, m.name, e.framing, e.bitDepth, e.ssimConvention, e.channels, e.lpipsVersion;
                """)
        }
        migrator.registerMigration("v12-capture-firing") { db in
            // How a capture's cameras were fired (TriggerMode: software, external, trigger-box; NULL for captures
            // made before) and the largest skew its rig file allowed (seconds; NULL: no limit), so `process` can
            // send a pair whose skew exceeds it to review however much later it runs.
            try db.execute(sql: """
                ALTER TABLE capture ADD COLUMN trigger TEXT;
                ALTER TABLE capture ADD COLUMN maxSkew DOUBLE;
                """)
        }
        migrator.registerMigration("v13-yiq-luma") { _ in
            // No schema change: `evaluation.channels` may now hold `y-yiq` (the pyiqa-y protocol's luma scores). The
            // marker makes a rigctl that does not know that value refuse the catalogue, as for any newer schema,
            // instead of showing those rows' protocol as unknown.
        }
        migrator.registerMigration("v14-downsampled-ssim") { _ in
            // No schema change: `evaluation.ssimConvention` may now hold `gaussian-11x11-downsampled` (the
            // pyiqa-y-downsample protocol's SSIM), which an older rigctl must refuse rather than misread.
        }
        return migrator
    }
}

/// The SQL conditions (on `pair p`) that name a verdict, review state or split. They live here, beside the tables,
/// so that a status is spelled in SQL in this one file; every other query binds `Verdict`, `ReviewState` and
/// `Split` values as arguments or uses these.
enum PairSQL {
    /// What an export may take: accepted, or sent to review and approved; never rejected on review.
    static let exportable =
        "(p.verdict = 'accepted' OR (p.verdict = 'review' AND p.reviewState = 'approved')) AND p.reviewState != 'rejected'"
    /// What an evaluation may take: rejected neither by the checks nor on review.
    static let evaluable = "p.verdict != 'rejected' AND p.reviewState != 'rejected'"
    /// Pairs owed scores: all but those the checks rejected.
    static let notRejected = "p.verdict != 'rejected'"
    /// Why a pair is not usable, in words.
    static let unusableReason = """
        CASE WHEN p.reviewState = 'rejected' THEN 'rejected on review'
             WHEN p.verdict = 'rejected' THEN 'rejected by the checks'
             ELSE 'awaiting a reviewer''s approval' END
        """
    /// A re-aligned pair's review state: an approval was of other images.
    static let reviewAfterRealign = "CASE WHEN reviewState = 'approved' THEN 'unreviewed' ELSE reviewState END"
}

