import Foundation

/// How many child processes the async helpers (runTool, startVirtualRig, RigctlTests' CommandLine.run, ...) run at
/// once: as many as cores. A waiting test holds no thread (it is suspended, not blocked), so nothing throttles the
/// tests any more but this: while their waits held Swift's cooperative threads (one per core), no more than that many
/// such tests ran at once; without a bound every test that runs processes starts them together, and on two cores
/// the timing-bound ones (a virtual camera's live-view answer, a trigger box's arrival skew) ran out of time.
public actor ProcessSlots {
    public static let shared = ProcessSlots(limit: ProcessInfo.processInfo.activeProcessorCount)

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) {
        free = max(1, limit)
    }

    private func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            // The slot passes straight to the longest waiter.
            waiting.removeFirst().resume()
        }
    }

    /// Runs `body` (which starts a process and waits for it) once a slot is free; the slot is given back when it
    /// returns or throws. `body` must not ask for a slot itself.
    public nonisolated func withSlot<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }
}
