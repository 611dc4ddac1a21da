import Foundation
import Rig
import TestSupport
import Testing
import ThreadSupport

/// `rigctl capture --serve` on the virtual rig, watched in headless Chromium: a fault planted in the rig shows on
/// the open page, loud, within seconds of the capture meeting it. Skipped, with the reason in the test report, where
/// Chromium is not installed.
@Suite(.serialized) struct DashboardBrowserTests {
    static let chromium = findExecutable("chromium")

    /// A running `capture --serve`: its address, and every line it writes with the moment it arrived.
    final class ServingCapture: Sendable {
        let process: Process
        let base: String
        private let lines: LockedValue<[(at: ContinuousClock.Instant, text: String)]>
        private let readers: [JoinableThread]

        init(rigctl: String, arguments: [String], home: URL) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: rigctl)
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment
            environment["HOME"] = home.path
            process.environment = environment
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let lines = LockedValue<[(at: ContinuousClock.Instant, text: String)]>([])
            // Both streams are read to their end, so the capture never blocks on a full pipe.
            readers = try [out, err].enumerated().map { n, pipe in
                try JoinableThread(name: "capture-output-\(n)") {
                    var pending = ""
                    while true {
                        let chunk = pipe.fileHandleForReading.availableData
                        if chunk.isEmpty { break }
                        pending += String(decoding: chunk, as: UTF8.self)
                        while let newline = pending.firstIndex(of: "\n") {
                            let line = String(pending[..<newline])
                            pending.removeSubrange(...newline)
                            lines.withLock { $0.append((ContinuousClock.now, line)) }
                        }
                    }
                }
            }
            self.lines = lines
            self.process = process
            let deadline = Date().addingTimeInterval(TestTime.scaled(120))
            var address: String?
            while address == nil && Date() < deadline && process.isRunning {
                address = lines.withLock { all in
                    all.lazy.compactMap { line in line.text.range(of: "dashboard at ").map { String(line.text[$0.upperBound...]) } }.first
                }
                if address == nil { Thread.sleep(forTimeInterval: 0.05) }
            }
            guard let address else {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
                readers.forEach { $0.join() }
                throw HTTPTestError("capture --serve printed no address: \(lines.withLock { $0.map(\.text) })")
            }
            base = address.hasSuffix("/") ? String(address.dropLast()) : address
        }

        /// The first line containing `text`, with when it came.
        func line(containing text: String) -> (at: ContinuousClock.Instant, text: String)? {
            lines.withLock { $0.first { $0.text.contains(text) } }
        }

        var output: String { lines.withLock { $0.map(\.text).joined(separator: "\n") } }

        /// Ctrl-C, as a person ends the page; returns the exit status.
        func stop() -> Int32 {
            if process.isRunning { process.interrupt() }
            process.waitUntilExit()
            readers.forEach { $0.join() }
            return process.terminationStatus
        }
    }

    func rigctl() throws -> String {
        try #require(locateProduct("rigctl"), "build rigctl with `swift build --build-tests`").path
    }

    /// A virtual rig, `capture --serve` on it with `arguments`, and a browser page open on the dashboard.
    func withDashboard(rig rigArguments: [String], editRig: (inout RigFile) -> Void = { _ in },
                       capture arguments: (URL) -> [String], exitStatus: Int32,
                       _ body: (ServingCapture, BrowserPage) async throws -> Void) async throws {
        let browser = try #require(Self.chromium)
        let rigctl = try rigctl()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rig = try startVirtualRig(rigctl, in: dir, arguments: rigArguments)
        defer { if rig.server.isRunning { rig.server.interrupt() }; rig.server.waitUntilExit() }
        var file = try RigFile.load(rig.rigFile)
        editRig(&file)
        try file.encoded().write(to: rig.rigFile)
        let capture = try ServingCapture(rigctl: rigctl, arguments: ["capture", "--rig", rig.rigFile.path, "--serve", "--port", "0"]
                                         + arguments(dir), home: rig.home)
        var failure: Error?
        do {
            let devtools = try DevTools(executable: browser, profile: dir.appendingPathComponent("profile"))
            do {
                let page = try await devtools.newPage()
                try await page.open(capture.base + "/")
                try await body(capture, page)
            } catch {
                failure = error
            }
            await devtools.close()
        } catch {
            failure = error
        }
        let status = capture.stop()
        if let failure { throw HTTPTestError("\(failure)\ncapture output:\n\(capture.output)\nvirtual rig:\n\(rig.logText)") }
        #expect(status == exitStatus, "\(capture.output)")
    }

    /// How long after `line` the page showed what `condition` looks for; fails past `limit` seconds.
    func shown(_ page: BrowserPage, _ condition: String, after line: String, in capture: ServingCapture) async throws -> Double {
        try await page.waitFor(condition)
        let seen = ContinuousClock.now
        let at = try #require(capture.line(containing: line), "no line \"\(line)\": \(capture.output)").at
        let seconds = Double((seen - at).components.attoseconds) / 1e18 + Double((seen - at).components.seconds)
        return seconds
    }

    /// The page polls twice a second; with a loaded machine's slack a fault must still show within a few seconds.
    static let showWithin = TestTime.scaled(5)

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser test"))
    func aCameraThatDropsMidCaptureShowsAsGone() async throws {
        try await withDashboard(rig: ["--width", "320", "--height", "240", "--fault", "deep:drop-after=2"], capture: { dir in
            ["--dataset", dir.appendingPathComponent("set").path, "--init", "--scene", "desk", "--count", "6",
             "--interval", "1", "--no-model"]
        }, exitStatus: 1) { capture, page in
            // The pairs before the fault land with their thumbnails, verdicts and counts.
            try await page.waitFor("""
                document.querySelectorAll('#pairs tr[data-pair][data-verdict]').length >= 2 &&
                [...document.querySelectorAll('#pairs tr[data-pair="1"] img')].filter(i => i.complete && i.naturalWidth > 0).length === 2 &&
                document.querySelector('#counts [data-count="scene"] [data-key="desk"]') !== null
                """)
            let seconds = try await shown(page, "document.querySelector('#warnings .alarm[data-kind=\"cameraGone\"][data-role=\"deep\"]') !== null",
                                          after: "rigctl: error:", in: capture)
            #expect(seconds < Self.showWithin, "the page showed the dropped camera \(seconds) s after the capture stopped")
            #expect(try await page.string("document.querySelector('#warnings .alarm').textContent").contains("deep camera gone"))
            #expect(try await page.evaluate("document.body.classList.contains('alarmed')") as? Bool == true)
            #expect(try await page.string("document.title").hasPrefix("\u{26A0}"))
            #expect(try await page.evaluate("document.querySelector('#cameras .camera[data-role=\"deep\"]').classList.contains('gone')") as? Bool == true)
            #expect(try await page.string("document.getElementById('phase').textContent") == "failed")
            #expect(try await page.string("document.querySelector('#counts [data-count=\"scene\"] [data-key=\"desk\"]').textContent") == "2")
            print("dashboard: the dropped deep camera showed \(String(format: "%.2f", seconds)) s after the capture stopped")
        }
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser test"))
    func aCardFillingUpShowsAsSoonAsFewPairsFit() async throws {
        // A card for 52 frames that keeps its files (the camera estimates a frame at width x height x 2 + 4096
        // bytes): the pre-flight finds 52 pairs, so no warning yet; the figure drops below 50 a pair or two later.
        let frame = 320 * 240 * 2 + 4096
        try await withDashboard(rig: ["--width", "320", "--height", "240", "--card-mb", String(Double(52 * frame) / 1e6)],
                                editRig: { $0.keepOnCamera = true }, capture: { dir in
            ["--out", dir.appendingPathComponent("pairs").path, "--count", "5", "--interval", "1"]
        }, exitStatus: 0) { capture, page in
            try await page.waitFor("document.querySelectorAll('#pairs tr[data-pair]').length >= 1")
            let seconds = try await shown(page, "document.querySelector('#warnings .alarm[data-kind=\"lowCard\"]') !== null",
                                          after: "more pair(s) fit on the cards", in: capture)
            #expect(seconds < Self.showWithin, "the page showed the filling card \(seconds) s after the capture warned")
            let text = try await page.string("document.querySelector('#warnings .alarm[data-kind=\"lowCard\"]').textContent")
            #expect(text.contains("more pair(s) fit on the cards"), "\(text)")
            // Files only: no verdicts, but every pair with its thumbnails, and the warning stays when the capture ends.
            try await page.waitFor("document.getElementById('phase').textContent === 'finished'")
            try await page.waitFor("""
                document.querySelectorAll('#pairs tr[data-pair]').length === 5 &&
                [...document.querySelectorAll('#pairs img')].filter(i => i.complete && i.naturalWidth > 0).length === 10
                """)
            #expect(try await page.evaluate("document.querySelector('#warnings .alarm[data-kind=\"lowCard\"]') !== null") as? Bool == true)
            print("dashboard: the filling card showed \(String(format: "%.2f", seconds)) s after the capture warned")
        }
    }
}
