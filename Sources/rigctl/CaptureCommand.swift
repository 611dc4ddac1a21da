import ArgumentParser
import Foundation
import Rig

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture pairs with a two-camera rig.",
        discussion: """
            Applies the rig file's settings, then per pair fires both cameras from one barrier (software trigger) or \
            waits for an external release, downloads both files and writes NNNN_shallow.EXT, NNNN_deep.EXT and \
            NNNN.json (trigger and arrival times, skew, metadata) into the output folder. A pair that fails is not \
            written at all; the command stops with an error naming the camera and what it was doing.
            """
    )

    @Option(help: "The rig file (JSON, see docs/rig.md).")
    var rig: String

    @Option(help: "Output folder (created if missing); numbering continues after pairs already there.")
    var out: String

    @Option(help: "Number of pairs.")
    var count: Int = 1

    @Option(help: "Seconds between pairs (software trigger).")
    var interval: Double = 0

    @Flag(name: .customLong("no-settings"), help: "Do not apply the rig file's settings.")
    var noSettings = false

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard interval >= 0 else { throw ValidationError("--interval must not be negative") }
    }

    func run() throws {
        try reportingErrors {
            let file = try RigFile.load(URL(fileURLWithPath: rig))
            let library = try GPhotoLibrary()
            let connected = try Rig(file: file, library: library)
            defer { connected.close() }
            if !noSettings { try connected.applySettings() }
            let directory = URL(fileURLWithPath: out)
            if file.trigger == .external { print("waiting for an external release (\(count) pair(s))") }
            var skews: [Double] = []
            let start = Date()
            for n in 0..<count {
                if n > 0 && interval > 0 { Thread.sleep(forTimeInterval: interval) }
                let pair = try connected.capture(count: 1, into: directory)[0]
                let skew = pair.triggerSkew.map { String(format: "trigger skew %.2f ms", $0 * 1000) } ?? "external release"
                print(String(format: "pair %d: %@ + %@  %@, arrival skew %.1f ms", pair.index, pair.shallow.fileName,
                             pair.deep.fileName, skew, pair.arrivalSkew * 1000))
                if let s = pair.triggerSkew { skews.append(abs(s)) }
            }
            let elapsed = Date().timeIntervalSince(start)
            var summary = String(format: "%d pair(s) in %.1f s (%.1f pairs/min)", count, elapsed, Double(count) / elapsed * 60)
            if !skews.isEmpty {
                summary += String(format: ", median |trigger skew| %.2f ms", skews.sorted()[skews.count / 2] * 1000)
            }
            print(summary + " into \(out)")
        }
    }
}
