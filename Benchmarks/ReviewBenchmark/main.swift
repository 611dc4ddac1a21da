// The browser review's queue at scale: `GET /api/pairs` pages and the queue page over HTTP from
// the built `rigctl review` (read-only, as it starts by default), on a catalogue of N pairs (default 10,000) with
// three quality figures each and two models' scores.
// Usage: swift build -c release --product rigctl && swift run -c release ReviewBenchmark [pairs=10000] [runs=21]
import DatasetBuilder
import Foundation
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let pairCount = max(1, arguments.count > 0 ? arguments[0] : 10_000)
let runs = max(3, arguments.count > 1 ? arguments[1] : 21)

let work = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-review-benchmark-\(UUID().uuidString)")

/// Rows written straight into the catalogue (no image files: the queue reads only the catalogue). They are not
/// whole pairs (no files, placeholder colour fit), so the pair page is not timed here.
func fill(_ root: URL, pairs: Int) throws {
    let dataset = try Dataset.create(at: root)
    let models = try ["input", "ifan"].map { try dataset.registerModel(ModelInput(name: $0, weights: nil)).id }
    let queue = try DatabaseQueue(path: root.appendingPathComponent(Dataset.catalogName).path)
    let scenes = max(1, pairs / 10)
    try queue.write { db in
        let now = Date()
        for s in 0..<scenes {
            try db.execute(sql: "INSERT INTO scene (id, name) VALUES (?, ?)", arguments: [s + 1, "scene-\(s)"])
        }
        let file = try db.makeStatement(sql: "INSERT INTO file (id, path, size, sha256, kind, addedAt) VALUES (?, ?, 1, ?, 'aligned', ?)")
        let pair = try db.makeStatement(sql: """
            INSERT INTO pair (id, contentKey, sceneId, name, sourceFileId, targetFileId, homography, colourModel,
                              colourParameters, colourResidual, quality, verdict, split, addedAt)
            VALUES (?, ?, ?, ?, ?, ?, '[1,0,0,0,1,0,0,0,1]', 'gain', '[1,1,1]', ?, ?, ?, ?, ?)
            """)
        let evaluation = try db.makeStatement(sql: """
            INSERT INTO evaluation (pairId, modelId, psnr, ssim, ssimGaussian, mae, seconds, evaluatedAt, framing,
                                    bitDepth, ssimConvention, rigctlVersion)
            VALUES (?, ?, ?, ?, ?, ?, 0, ?, 'whole', 16, 'skimage-uniform-7x7', 'benchmark')
            """)
        // Deterministic spread of figures (a linear congruential sequence), so every run sorts the same data.
        var state: UInt64 = 12345
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        for p in 0..<pairs {
            let key = String(format: "%020x", p + 1)
            try file.execute(arguments: [2 * p + 1, "aligned/\(key)/source.png", key, now])
            try file.execute(arguments: [2 * p + 2, "aligned/\(key)/target.png", key, now])
            let quality = String(format: #"{"overlap":%.4f,"correlation":%.4f,"p95Shift":%.4f}"#,
                                 0.9 + 0.1 * next(), 0.8 + 0.2 * next(), 2 * next())
            try pair.execute(arguments: [p + 1, key, p % scenes + 1, "pair-\(p)", 2 * p + 1, 2 * p + 2, 0.02 * next(),
                                         quality, p % 7 == 0 ? "review" : "accepted", p % 5 == 0 ? "test" : "train", now])
            for model in models {
                try evaluation.execute(arguments: [p + 1, model, 20 + 15 * next(), 0.5 + 0.5 * next(), 0.5 + 0.5 * next(),
                                                   0.1 * next(), now])
            }
        }
    }
}

/// The built `rigctl` beside this benchmark, serving `root` on a free port; its address without the final slash.
func startServer(_ root: URL) throws -> (process: Process, base: String) {
    guard let rigctl = locateProduct("rigctl") else {
        throw BenchmarkError("no rigctl beside this benchmark; build it first: swift build -c release --product rigctl")
    }
    let server = try ReviewServerProcess.start(rigctl: rigctl, ["--dataset", root.path])
    return (server.process, server.base.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")))
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Sends one GET and returns its status and body length; the body is read whole, as a browser would. A failure
/// stops the benchmark with the server's message.
func get(_ url: URL) async throws -> (Int, Int) {
    let (data, response) = try await URLSession.shared.data(for: URLRequest(url: url, timeoutInterval: 600))
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard status == 200 else { throw BenchmarkError("GET \(url.path): status \(status): \(String(decoding: data.prefix(400), as: UTF8.self))") }
    return (status, data.count)
}

func milliseconds(_ start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

let root = work.appendingPathComponent("ds")
do {
    let started = ContinuousClock.now
    try fill(root, pairs: pairCount)
    print(String(format: "catalogue of %d pairs (3 quality figures, 2 models' scores each) written in %.1f s",
                 pairCount, milliseconds(started) / 1000))
    let server = try startServer(root)
    defer { if server.process.isRunning { server.process.interrupt(); server.process.waitUntilExit() } }
    let base = server.base
    let requests = [
        "/api/pairs?limit=100",
        "/api/pairs?limit=100&offset=\(max(0, pairCount - 100))",
        "/api/pairs?sort=quality.p95Shift&order=desc&limit=100",
        "/api/pairs?review=unreviewed&sort=quality.correlation&offset=\(min(3000, pairCount / 2))&limit=100",
        "/api/pairs?sort=score.ifan.psnr&limit=100",
        "/api/pairs?where=quality.p95Shift%3E1.5,score.ifan.psnr%3C25&sort=quality.p95Shift&order=desc&limit=100",
        "/?sort=quality.p95Shift&order=desc",
        "/?where=quality.p95Shift%3E1.5&sort=score.input.psnr",
    ]
    print("runs per request: \(runs) after 2 warm-up; milliseconds from request to the whole body, URLSession client")
    print("| request | status | bytes | median | p95 |")
    print("|---|---|---|---|---|")
    for path in requests {
        let url = URL(string: base + path)!
        var status = 0, bytes = 0
        for _ in 0..<2 { (status, bytes) = try await get(url) }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            (status, bytes) = try await get(url)
            times.append(milliseconds(start))
        }
        times.sort()
        let p95 = times[min(times.count - 1, Int((Double(times.count) * 0.95).rounded(.up)) - 1)]
        print(String(format: "| `GET %@` | %d | %d | %.1f | %.1f |", path, status, bytes, times[times.count / 2], p95))
    }
    server.process.interrupt()
    server.process.waitUntilExit()
    try? FileManager.default.removeItem(at: work)
} catch {
    try? FileManager.default.removeItem(at: work)
    FileHandle.standardError.write(Data("ReviewBenchmark: \(error)\n".utf8))
    exit(1)
}
