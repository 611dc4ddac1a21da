// A load test of the review server: the built `rigctl review` on a catalogue of synthetic pairs with real images,
// hit by a bounded number of concurrent loopback clients for a bounded time with a mix of pages, API calls and
// images (as stored, scaled to several sizes, difference). Reports requests per second, latency percentiles, the
// answers by status and the server's peak resident memory (VmHWM).
// Usage: swift build -c release --product rigctl && swift run -c release ReviewLoadBenchmark [clients=16] [seconds=20] [pairs=60]
import DatasetBuilder
import PairVocabulary
import Foundation
import TestSupport
import ThreadSupport
#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let clients = min(256, max(1, arguments.count > 0 ? arguments[0] : 16))
let seconds = min(600, max(1, arguments.count > 1 ? arguments[1] : 20))
let pairCount = min(2000, max(2, arguments.count > 2 ? arguments[2] : 60))

struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

let work = FileManager.default.temporaryDirectory.appendingPathComponent("rigctl-review-load-\(UUID().uuidString)")

/// Pairs of 640x480 synthetic images in four scenes, each with a baseline score.
func fill(_ root: URL) throws -> [PairID] {
    let dataset = try Dataset.create(at: root)
    let scratch = work.appendingPathComponent("scratch")
    let model = try dataset.registerModel(ModelInput(name: "input", weights: nil))
    var ids: [PairID] = []
    for i in 0..<pairCount {
        let item = try SyntheticCapture.make(index: i, seed: 7, in: scratch, width: 640, height: 480, scenes: 4)
        let capture = try dataset.ingestCapture(item.capture)
        let added = try dataset.addPair(item.pair(captureID: capture.id, verdict: i % 5 == 4 ? .rejected : .accepted))
        try dataset.recordEvaluation(EvaluationInput(pairID: added.id, modelID: model.id, psnr: 20 + Double(i % 9), ssim: 0.5))
        ids.append(added.id)
    }
    try? FileManager.default.removeItem(at: scratch)
    return ids
}

/// The built `rigctl` beside this benchmark serving `root` on a free loopback port; the port it printed.
func startServer(_ root: URL) throws -> (Process, Int) {
    guard let rigctl = locateProduct("rigctl") else {
        throw LoadError("no rigctl beside this benchmark; build it first: swift build -c release --product rigctl")
    }
    let server = try ReviewServerProcess.start(rigctl: rigctl, ["--dataset", root.path, "--host", "127.0.0.1"])
    return (server.process, server.port)
}

/// Peak resident set of a process in bytes (VmHWM), or nil when /proc does not say.
func peakResident(_ pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kib = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kib * 1024
}

/// The mix: a third pages, a third API, a third images (sizes vary, so the image cache misses too).
func path(_ n: Int, ids: [PairID]) -> String {
    let id = ids[n % ids.count]
    switch n % 9 {
    case 0: return "/?offset=\(n % max(1, ids.count - 10))&limit=50"
    case 1: return "/pairs/\(id)"
    case 2: return "/?sort=quality.p95Shift&order=desc"
    case 3: return "/api/pairs?limit=100&sort=score.input.psnr"
    case 4: return "/api/pairs/\(id)"
    case 5: return "/api/facets"
    case 6: return "/api/pairs/\(id)/image/source"
    case 7: return "/api/pairs/\(id)/image/target?size=\(64 + (n % 8) * 32)&format=jpeg"
    default: return "/api/pairs/\(id)/image/difference?size=\(256 + (n % 4) * 64)"
    }
}

struct ClientResult: Sendable {
    var latencies: [Double] = []
    var statuses: [Int: Int] = [:]
    var failures = 0
}

do {
    let root = work.appendingPathComponent("ds")
    let ids = try fill(root)
    let (server, port) = try startServer(root)
    defer { if server.isRunning { server.interrupt(); server.waitUntilExit() } }
    let deadline = Date().addingTimeInterval(Double(seconds))
    let started = Date()
    let results = LockedValue(ClientResult())
    let group = DispatchGroup()
    for c in 0..<clients {
        group.enter()
        // One thread per client, blocking sockets; every loop ends at the deadline.
        Thread.detachNewThread {
            var result = ClientResult()
            var n = c * 7919
            while Date() < deadline {
                n += 1
                let t0 = DispatchTime.now().uptimeNanoseconds
                do {
                    let reply = try HTTPClient.sendBlocking(method: "GET", port: port, path: path(n, ids: ids),
                                                            host: "127.0.0.1:\(port)", headers: [:], body: nil)
                    result.statuses[reply.status, default: 0] += 1
                } catch {
                    result.failures += 1
                }
                result.latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            results.withLock { all in
                all.latencies += result.latencies
                all.failures += result.failures
                for (k, v) in result.statuses { all.statuses[k, default: 0] += v }
            }
            group.leave()
        }
    }
    group.wait()
    let elapsed = Date().timeIntervalSince(started)
    let peak = peakResident(server.processIdentifier)
    let all = results.value
    let sorted = all.latencies.sorted()
    func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
    print("pairs \(pairCount) (640x480), clients \(clients), \(seconds) s, loopback, one connection per request")
    print(String(format: "requests %d, %.0f requests/s; latency ms p50 %.1f, p99 %.1f, max %.1f", sorted.count,
                 Double(sorted.count) / elapsed, percentile(0.5), percentile(0.99), sorted.last ?? 0))
    print("status: " + all.statuses.keys.sorted().map { "\($0) x\(all.statuses[$0]!)" }.joined(separator: ", ")
          + (all.failures > 0 ? ", no answer x\(all.failures)" : ""))
    print("server peak resident memory: " + (peak.map { String(format: "%.0f MB", Double($0) / 1e6) } ?? "unknown"))
    server.interrupt()
    server.waitUntilExit()
    try? FileManager.default.removeItem(at: work)
} catch {
    try? FileManager.default.removeItem(at: work)
    FileHandle.standardError.write(Data("ReviewLoadBenchmark: \(error)\n".utf8))
    exit(1)
}
