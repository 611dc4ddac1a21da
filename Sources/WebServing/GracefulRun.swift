import Logging
import ServiceLifecycle

/// How the loopback servers run and stop: in a ServiceLifecycle group, shut down gracefully (the requests in
/// flight finish, then the listener closes) when `until` returns or, with `stopOnSignals`, on SIGINT or SIGTERM.
/// Cancelling the task stops a server too, but Hummingbird then logs two errors for it ("Waiting on child channel:
/// CancellationError()", "Server shutdown error: Already closed"), so callers that stop a server on purpose, tests
/// included, stop it through `until`.
public enum GracefulRun {
    public static func run(_ service: some Service, stopOnSignals: Bool, logger: Logger,
                           until stop: @escaping @Sendable () async -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: [service],
                                                      gracefulShutdownSignals: stopOnSignals ? [.sigterm, .sigint] : [],
                                                      logger: logger))
        try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await group.run()
                return true
            }
            tasks.addTask {
                await stop()
                await group.triggerGracefulShutdown()
                return false
            }
            // Until the server has ended (stopped, or failed to listen, which throws): then the waiting side goes.
            while let serverEnded = try await tasks.next() {
                if serverEnded { break }
            }
            tasks.cancelAll()
        }
    }

    /// Waits until cancelled: `until` for a server that stops only on a signal or when its task is cancelled.
    public static func never() async {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }
}
