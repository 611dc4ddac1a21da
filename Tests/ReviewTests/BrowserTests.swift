import DatasetBuilder
import Foundation
import Review
import TestSupport
import Testing

/// Loads the pages in Debian's Chromium, headless, and checks what its scripts did to the DOM. Skipped, with the
/// reason in the test report, where Chromium is not installed (`script/install-deps` installs it).
/// With RIGCTL_REVIEW_SCREENSHOTS=DIR it also saves screenshots of the queue and the pair view there.
@Suite struct BrowserTests {
    static let chromium = findExecutable("chromium")

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser test"))
    func queueAndPairViewRunInChromium() async throws {
        let browser = try #require(Self.chromium)
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (dataset, ids) = try makeReviewDataset(in: dir)
        let server = try await RunningServer.start(dataset)
        do {
            let base = "http://127.0.0.1:\(server.port)"
            let queue = try await Self.dumpDOM(browser, "\(base)/?sort=quality.p95Shift&order=desc", profile: dir)
            #expect(queue.contains("<tr data-id=\"\(ids[9])\""))
            #expect(queue.contains("worst aligned first"))

            // fit() runs once the source image has loaded and writes the zoom into #zoom: the script ran and
            // the image arrived through the API.
            let pair = try await Self.dumpDOM(browser, "\(base)/pairs/\(ids[5])", profile: dir)
            let zoom = try #require(pair.range(of: "<span id=\"zoom\">"))
            let after = pair[zoom.upperBound...].prefix(while: { $0 != "<" })
            #expect(after.hasSuffix("%") && after.dropLast().allSatisfy(\.isNumber) && !after.dropLast().isEmpty,
                    "zoom label: \(after)")
            #expect(pair.contains("data-mode=\"side\""))

            if let shots = ProcessInfo.processInfo.environment["RIGCTL_REVIEW_SCREENSHOTS"] {
                try await Self.screenshot(browser, "\(base)/?sort=quality.p95Shift&order=desc", to: "\(shots)/review-queue.png",
                                          size: "1280,640", profile: dir)
                try await Self.screenshot(browser, "\(base)/?sort=quality.p95Shift&order=desc", to: "\(shots)/review-queue-narrow.png",
                                          size: "420,900", profile: dir)
                try await Self.screenshot(browser, "\(base)/pairs/\(ids[5])", to: "\(shots)/review-pair.png",
                                          size: "1280,900", profile: dir)
                try await Self.screenshot(browser, "\(base)/pairs/\(ids[5])", to: "\(shots)/review-pair-narrow.png",
                                          size: "420,900", profile: dir)
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func arguments(profile: URL) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--user-data-dir=\(profile.appendingPathComponent("chromium-profile").path)", "--virtual-time-budget=10000"]
    }

    static func dumpDOM(_ browser: String, _ url: String, profile: URL) async throws -> String {
        try await run(browser, arguments(profile: profile) + ["--dump-dom", url])
    }

    static func screenshot(_ browser: String, _ url: String, to path: String, size: String, profile: URL) async throws {
        _ = try await run(browser, arguments(profile: profile) + ["--hide-scrollbars", "--window-size=\(size)",
                                                                 "--screenshot=\(path)", url])
        #expect(FileManager.default.fileExists(atPath: path))
    }

    /// Runs the browser on its own thread (it blocks) and returns its standard output; its chatter on standard
    /// error is dropped.
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    let out = Pipe()
                    process.standardOutput = out
                    process.standardError = FileHandle.nullDevice
                    process.standardInput = FileHandle.nullDevice
                    try process.run()
                    let data = out.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    guard process.terminationStatus == 0 else {
                        throw HTTPTestError("chromium exited with \(process.terminationStatus)")
                    }
                    return String(decoding: data, as: UTF8.self)
                })
            }
        }
    }
}
