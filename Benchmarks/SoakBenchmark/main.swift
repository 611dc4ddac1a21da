import Foundation
import ThreadSupport

// Soak: many short `rigctl capture --dataset` runs into fresh datasets, then one long run, against a virtual rig.
// Counts aborts (a run ended by a signal) and lost pairs, and follows the long run's memory and descriptors.
// Usage: swift run -c release SoakBenchmark [runs] [long-run pairs] [width] [height]
//   (defaults 200 runs of 2 pairs, a 200-pair long run, 160x120 frames). The rigctl beside this binary is used.

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let runs = arguments.count > 0 ? arguments[0] : 200
let longPairs = arguments.count > 1 ? arguments[1] : 200
let width = arguments.count > 2 ? arguments[2] : 160
let height = arguments.count > 3 ? arguments[3] : 120
let pairsPerRun = 2

struct SoakError: Error, CustomStringConvertible { var description: String }

let rigctl = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rigctl")
guard FileManager.default.isExecutableFile(atPath: rigctl.path) else {
    FileHandle.standardError.write(Data("SoakBenchmark: no rigctl beside this binary; build with `swift build -c release`\n".utf8))
    exit(1)
}
let work = FileManager.default.temporaryDirectory.appendingPathComponent("soak-\(UUID().uuidString)")
let home = work.appendingPathComponent("home")
try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }

func makeProcess(_ args: [String]) -> Process {
    let p = Process()
    p.executableURL = rigctl
    p.arguments = args
    var environment = ProcessInfo.processInfo.environment
    environment["HOME"] = home.path
    p.environment = environment
    p.standardInput = FileHandle.nullDevice
    return p
}

/// Runs rigctl to the end; its exit status, whether a signal ended it, and its output.
func run(_ args: [String]) throws -> (status: Int32, signalled: Bool, output: String) {
    let p = makeProcess(args)
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, p.terminationReason == .uncaughtSignal, String(decoding: data, as: UTF8.self))
}

/// "captures N, pairs M, ..." from `rigctl dataset status`.
func catalogued(_ dataset: URL) throws -> (captures: Int, pairs: Int) {
    let status = try run(["dataset", "status", "--dataset", dataset.path]).output
    func count(_ word: String) -> Int {
        guard let r = status.range(of: word + " ") else { return 0 }
        return Int(status[r.upperBound...].prefix { $0.isNumber }) ?? 0
    }
    return (count("captures"), count("pairs"))
}

func procValue(_ pid: Int32, _ key: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
        return Int(line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
    }
    return nil
}

func openDescriptors(_ pid: Int32) -> Int? {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
}

// The virtual rig, for the whole soak.
let rigFile = work.appendingPathComponent("rig.json")
let server = makeProcess(["virtual-rig", "--port", String(Int.random(in: 20000...50000)), "--rig-file", rigFile.path,
                          "--width", String(width), "--height", String(height)])
server.standardOutput = FileHandle.nullDevice
server.standardError = FileHandle.nullDevice
try server.run()
defer { server.terminate() }
let deadline = Date().addingTimeInterval(30)
while !FileManager.default.fileExists(atPath: rigFile.path) && Date() < deadline { usleep(50_000) }
guard FileManager.default.fileExists(atPath: rigFile.path) else { throw SoakError(description: "the virtual rig did not start") }

// Short runs.
var aborts = 0, failedRuns = 0, captured = 0, lost = 0
var examples: [String] = []
let shortStart = Date()
for n in 1...max(runs, 1) where runs > 0 {
    let dataset = work.appendingPathComponent("ds-\(n)")
    let r = try run(["capture", "--rig", rigFile.path, "--dataset", dataset.path, "--scene", "planes", "--count",
                     String(pairsPerRun), "--split", "test", "--no-model", "--init"])
    if r.signalled { aborts += 1 } else if r.status != 0 { failedRuns += 1 }
    if (r.signalled || r.status != 0) && examples.count < 3 { examples.append("run \(n): \(r.output.suffix(300))") }
    let c = try catalogued(dataset)
    captured += c.captures
    lost += c.captures - c.pairs
    try? FileManager.default.removeItem(at: dataset)
    if n % 20 == 0 { FileHandle.standardError.write(Data("  \(n)/\(runs) runs, \(aborts) aborts\n".utf8)) }
}
let shortTime = Date().timeIntervalSince(shortStart)

// One long run, sampled while it works.
let dataset = work.appendingPathComponent("long")
let long = makeProcess(["capture", "--rig", rigFile.path, "--dataset", dataset.path, "--scene", "planes", "--count",
                        String(longPairs), "--split", "test", "--no-model", "--init"])
let pipe = Pipe()
long.standardOutput = pipe
long.standardError = pipe
let processed = LockedValue(0)
let transcript = LockedValue("")
pipe.fileHandleForReading.readabilityHandler = { handle in
    let text = String(decoding: handle.availableData, as: UTF8.self)
    let n = text.split(separator: "\n").filter { $0.hasPrefix("pair ") }.count
    processed.withLock { $0 += n }
    transcript.withLock { $0 += text }
}
let longStart = Date()
try long.run()
var samples: [(pairs: Int, rssKiB: Int)] = []
var lastDescriptors: Int?
while long.isRunning {
    if let rss = procValue(long.processIdentifier, "VmRSS") { samples.append((processed.value, rss)) }
    if let fds = openDescriptors(long.processIdentifier) { lastDescriptors = fds }
    usleep(100_000)
}
long.waitUntilExit()
pipe.fileHandleForReading.readabilityHandler = nil
let longTime = Date().timeIntervalSince(longStart)
let longCounts = try catalogued(dataset)

// RSS growth per 100 pairs after a warm-up of a fifth of the run: a least-squares slope over the samples.
let warm = samples.filter { $0.pairs >= longPairs / 5 }
var slope = Double.nan
if warm.count >= 2, let lo = warm.first?.pairs, let hi = warm.last?.pairs, hi > lo {
    let xs = warm.map { Double($0.pairs) }, ys = warm.map { Double($0.rssKiB) }
    let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
    let sxy = zip(xs, ys).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
    let sxx = xs.map { ($0 - mx) * ($0 - mx) }.reduce(0, +)
    slope = sxy / sxx * 100 / 1024
}
let peak = samples.map(\.rssKiB).max() ?? 0
let atWarm = warm.first?.rssKiB ?? 0, atEnd = samples.last?.rssKiB ?? 0

print("SoakBenchmark: rigctl capture --dataset on a virtual rig (\(width)x\(height) DNG, no model), \(ProcessInfo.processInfo.activeProcessorCount) cores")
print(String(format: "  short runs      %d runs of %d pairs in %.0f s: %d aborts, %d other failures; %d pairs captured, %d lost",
             runs, pairsPerRun, shortTime, aborts, failedRuns, captured, lost))
for e in examples { print("    " + e.replacingOccurrences(of: "\n", with: "\n    ")) }
print(String(format: "  long run        %d pairs requested in %.0f s: exit %d%@; %d captured, %d lost",
             longPairs, longTime, long.terminationStatus, long.terminationReason == .uncaughtSignal ? " (signal)" : "",
             longCounts.captures, longCounts.captures - longCounts.pairs))
if long.terminationStatus != 0 || longCounts.captures != longCounts.pairs {
    let lines = transcript.value.split(separator: "\n").filter { !$0.hasPrefix("pair ") && !$0.hasPrefix("captured pair") }
    for line in lines.suffix(6) { print("    " + line) }
}
print(String(format: "  memory          RSS %.1f MiB after warm-up, %.1f MiB at the end, peak %.1f MiB; growth %.2f MiB per 100 pairs",
             Double(atWarm) / 1024, Double(atEnd) / 1024, Double(peak) / 1024, slope))
print("  descriptors     \(lastDescriptors.map(String.init) ?? "?") open at the last sample")
exit(aborts == 0 && failedRuns == 0 && long.terminationStatus == 0 ? 0 : 1)
