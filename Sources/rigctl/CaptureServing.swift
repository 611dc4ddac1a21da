import ArgumentParser
import CaptureDashboard
import DatasetBuilder
import Foundation
import PairVocabulary
import Pipeline
import Rig
import ThreadSupport
import WebServing

/// What the first Ctrl-C says and does, added by whichever parts of the capture run (the handler is made before
/// they are known).
final class StopNotice: Sendable {
    private let actions = LockedValue<[@Sendable () -> Void]>([])

    func add(_ action: @escaping @Sendable () -> Void) { actions.withLock { $0.append(action) } }

    func say() { for action in actions.value { action() } }

    /// Once what they stopped is over: Ctrl-C now only does `action`.
    func replace(with action: @escaping @Sendable () -> Void) { actions.withLock { $0 = [action] } }
}

/// Tells the dashboard what the capture loop and the pipeline report, and reads the cameras again between pairs
/// (on the capture thread, the only one that talks to them).
final class DashboardReporter: Sendable {
    let feed: DashboardFeed
    private let lastReading = LockedValue(Date())

    /// Seconds between full readings of the cameras (battery, settings); the card's figure is read after every pair.
    static let readingInterval: TimeInterval = 10

    init(feed: DashboardFeed) {
        self.feed = feed
    }

    /// A pair landed: on the page at once, its thumbnails made from `load` on the dashboard's own thread.
    func captured(number: Int, captureID: CaptureID?, pair: CapturedPair, scene: String?,
                  load: @escaping @Sendable (CameraRole) throws -> (data: Data, path: String)) {
        feed.apply(.captured(number: number, captureID: captureID, pair: pair, scene: scene))
        feed.makeThumbnails(pair: number, load: load)
    }

    /// Whether the cameras are to be read in full after this pair (the last reading is old); true starts the next
    /// interval.
    func readingDue() -> Bool {
        lastReading.withLock { last -> Bool in
            guard Date().timeIntervalSince(last) >= Self.readingInterval else { return false }
            last = Date()
            return true
        }
    }

    /// After a pair: the cards' figure, and the cameras as read in full when that was due (`readingDue`). A camera
    /// that could not be read fails the next pair, which says why; the page keeps the last reading.
    func afterPair(fit: PairsThatFit?, cameras: [CameraPreflight]?) {
        feed.apply(.fit(fit))
        if let cameras { feed.apply(.cameras(cameras)) }
    }

    /// The pipeline's own events (the capture loop's `.captured` goes through `captured`).
    func pipeline(_ event: PipelineEvent) {
        switch event {
        case .processed(let outcome): feed.apply(.processed(outcome))
        case .failed(_, let error): feed.apply(.processingFailed("\(error)"))
        case .captured(_, _, _, let waiting, _): feed.apply(.waiting(waiting))
        // Sent once per capture, when the worker takes it (as the terminal display counts it).
        case .stage: feed.apply(.processingStarted)
        case .stopping: break
        }
    }
}

extension CaptureCommand {
    /// `--serve`: the page is served before the cameras are touched (so it shows a failure to connect too), the
    /// capture runs on a thread of its own, and the page stays up after it ends until Ctrl-C. The exit status is
    /// the capture's.
    func runServing(interrupt: InterruptHandler, stopping: StopNotice) async throws {
        let file = try reportingErrors { try RigFile.load(URL(fileURLWithPath: rig)) }
        let state = DashboardState(destination: out ?? location.url.path, scene: out == nil ? (scene ?? "unsorted") : nil,
                                   planned: count, trigger: file.trigger, maxSkew: file.maxSkew)
        let feed = try reportingErrors { try DashboardFeed(state) }
        defer { feed.close() }
        stopping.add { feed.apply(.stopping) }
        let server = DashboardServer(feed: feed, host: host, port: port)
        let (addresses, started) = AsyncStream.makeStream(of: ServerAddress.self)
        // The page stops once the capture has ended and Ctrl-C was pressed (during the capture or after it).
        let captureEnded = LockedValue(false)
        let stop = interrupt.stop
        let serving = Task {
            defer { started.finish() }
            try await server.run(until: {
                while !(captureEnded.value && stop.isRequested) { try? await Task.sleep(for: .milliseconds(100)) }
            }, onStart: { address in started.yield(address) })
        }
        var iterator = addresses.makeAsyncIterator()
        guard let address = await iterator.next() else {
            let reason: String
            if case .failure(let error) = await serving.result {
                reason = ListenFailure(error)?.explanation(host: host, port: port) ?? "\(error)"
            } else {
                reason = "the server stopped before it listened"
            }
            FileHandle.standardError.write(Data("rigctl: error: cannot serve on \(host):\(port): \(reason)\n".utf8))
            throw ExitCode(ExitStatus.failure)
        }
        // Standard output carries --json's result alone; the address then goes to standard error.
        let json = self.json
        func say(_ line: String) {
            if json { note(line) } else { print(line); fflush(nil) }
        }
        say("rigctl capture: dashboard at \(address.url)")
        if address.token != nil { say("rigctl capture: the token in this address is required; share it only with the lab") }
        say("rigctl capture: Ctrl-C stops the capture after the pair in hand; the page stays up until Ctrl-C")
        var failure: (any Error)?
        do {
            try await JoinableThread.awaiting(name: "capture") {
                try self.capture(dashboard: feed, interrupt: stop, stopping: stopping)
            }
        } catch {
            failure = error
        }
        if !stop.isRequested {
            stopping.replace(with: { note("stopping the page") })
            say("rigctl capture: the capture has ended; the page at \(address.url) stays up until Ctrl-C")
        }
        captureEnded.withLock { $0 = true }
        _ = await serving.result
        if let failure { throw failure }
    }
}
