// Ingest and export speed of a dataset, and catalogue query times at 100,000 pairs.
// Usage: swift run -c release DatasetBenchmark [captures=1000] [queryPairs=100000] [width=160] [height=120]
import DatasetBuilder
import Foundation
import GRDB

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let captureCount = arguments.count > 0 ? arguments[0] : 1000
let queryPairs = arguments.count > 1 ? arguments[1] : 100_000
let width = arguments.count > 2 ? arguments[2] : 160
let height = arguments.count > 3 ? arguments[3] : 120

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<runs { times.append(try seconds(body)) }
    return times.sorted()[runs / 2]
}

let work = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-dataset-benchmark-\(UUID().uuidString)")

do {
    // 1. Ingest: captures (two originals each) and their aligned pairs, each a crash-safe step with fsyncs.
    print("generating \(captureCount) synthetic captures of \(width)x\(height) ...")
    let items = try (0..<captureCount).map {
        try SyntheticCapture.make(index: $0, seed: 1, in: work.appendingPathComponent("input"), width: width,
                                  height: height, scenes: max(1, captureCount / 10))
    }
    let dataset = try Dataset.create(at: work.appendingPathComponent("ds"))
    let ingest = try seconds {
        for item in items {
            let capture = try dataset.ingestCapture(item.capture)
            var pair = item.pair(captureID: capture.id)
            pair.split = .test
            try dataset.addPair(pair)
        }
    }
    let bytes = try dataset.verify(hashes: false).checkedBytes
    print(String(format: "ingest: %d captures + pairs in %.2f s = %.1f pairs/s (%.1f MiB catalogued)",
                 captureCount, ingest, Double(captureCount) / ingest, Double(bytes) / 1_048_576))
    let reingest = try seconds { for item in items.prefix(100) { try dataset.ingestCapture(item.capture) } }
    print(String(format: "re-ingest (already present, hashed and skipped): %.1f captures/s", 100 / reingest))

    // 2. Export: the same-depth copy path and the decode/downscale/re-encode path.
    for (label, options) in [("8-bit copy", ExportOptions(depth: 8)),
                             ("16-bit, max-size 80", ExportOptions(depth: 16, maxSize: 80))] {
        var pairs = 0
        let time = try seconds {
            pairs = try Exporter(options: options).run(from: dataset, to: work.appendingPathComponent("export")).pairs
        }
        print(String(format: "export (%@): %d pairs in %.2f s = %.1f pairs/s", label, pairs, time, Double(pairs) / time))
    }
    let verify = try seconds { _ = try dataset.verify() }
    print(String(format: "verify (hashes): %.2f s for %d files", verify, try dataset.status().files))

    // 3. Queries at scale: rows inserted in bulk straight into the catalogue (no files), then the commands' queries.
    let bigRoot = work.appendingPathComponent("big")
    do { _ = try Dataset.create(at: bigRoot) }
    let sceneCount = max(1, queryPairs / 10)
    let fill = try seconds {
        let queue = try DatabaseQueue(path: bigRoot.appendingPathComponent(Dataset.catalogName).path)
        try queue.write { db in
            let now = Date()
            for s in 0..<sceneCount {
                try db.execute(sql: "INSERT INTO scene (id, name) VALUES (?, ?)", arguments: [s + 1, "scene-\(s)"])
                try db.execute(sql: "INSERT INTO sceneTag (sceneId, tag) VALUES (?, ?)",
                               arguments: [s + 1, s % 3 == 0 ? "outdoor" : "indoor"])
            }
            let file = try db.makeStatement(sql: "INSERT INTO file (id, path, size, sha256, kind, addedAt) VALUES (?, ?, 1, ?, 'aligned', ?)")
            let pair = try db.makeStatement(sql: """
                INSERT INTO pair (id, contentKey, sceneId, name, sourceFileId, targetFileId, homography, colourModel,
                                  colourParameters, colourResidual, quality, verdict, split, addedAt)
                VALUES (?, ?, ?, ?, ?, ?, '[1,0,0,0,1,0,0,0,1]', 'gain', '[1,1,1]', 0.01, '{"ecc":0.97}', ?, ?, ?)
                """)
            for p in 0..<queryPairs {
                let key = String(SHA256Hex.of("pair \(p)").prefix(20))
                try file.execute(arguments: [2 * p + 1, "aligned/\(key)/source.png", key, now])
                try file.execute(arguments: [2 * p + 2, "aligned/\(key)/target.png", key, now])
                try pair.execute(arguments: [p + 1, key, p % sceneCount + 1, "pair-\(p)", 2 * p + 1, 2 * p + 2,
                                             p % 7 == 0 ? "rejected" : "accepted", p % 5 == 0 ? "test" : "train", now])
            }
        }
    }
    print(String(format: "bulk insert of %d pairs: %.2f s", queryPairs, fill))
    let reader = try Dataset.open(at: bigRoot, readOnly: true)
    let probeKey = String(SHA256Hex.of("pair \(queryPairs / 3)").prefix(8))
    let queries: [(String, () throws -> Void)] = [
        ("status (counts by verdict, split, review, scene)", { _ = try reader.status() }),
        ("list --split test --limit 100", { _ = try reader.pairs(PairFilter(split: .test, limit: 100)) }),
        ("list --scene scene-123 (10 pairs)", { _ = try reader.pairs(PairFilter(scene: "scene-123")) }),
        ("list --tag outdoor --verdict rejected --limit 100",
         { _ = try reader.pairs(PairFilter(tag: "outdoor", verdict: .rejected, limit: 100)) }),
        ("list --review unreviewed --offset 90000 --limit 50",
         { _ = try reader.pairs(PairFilter(review: .unreviewed, limit: 50, offset: 90_000)) }),
        ("show (by id)", { _ = try reader.pair("\(queryPairs / 2)") }),
        ("show (by 8-digit key prefix)", { _ = try reader.pair(probeKey) }),
        ("list (all pairs)", { _ = try reader.pairs() }),
    ]
    for (label, query) in queries {
        print(String(format: "  %@: %.2f ms", label, try median(5, query) * 1000))
    }
    let writer = try Dataset.open(at: bigRoot)
    print(String(format: "  split (assign %d pairs of %d scenes): %.2f s", queryPairs, sceneCount,
                 try seconds { try writer.assignSplit(testFraction: 0.2) }))
    let reviewed = "\(max(1, queryPairs / 2))"
    try writer.review(pair: reviewed, state: .approved, note: "benchmark")
    print(String(format: "  review (one pair): %.2f ms",
                 try median(5) { try writer.review(pair: reviewed, state: .flagged, note: nil) } * 1000))
    try? FileManager.default.removeItem(at: work)
} catch {
    try? FileManager.default.removeItem(at: work)
    FileHandle.standardError.write(Data("DatasetBenchmark: \(error)\n".utf8))
    exit(1)
}
