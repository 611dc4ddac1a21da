import Foundation

/// Releases all waiting threads at once when the last one arrives: the two cameras' threads meet here so that both
/// triggers go out together. A party that fails before arriving cancels it, so the other is not left waiting
/// forever.
public final class StartBarrier: @unchecked Sendable {
    // Unchecked: `condition` guards `arrived` and `cancelled`, touched only while it is locked. Waiting needs a
    // condition variable, which LockedValue does not offer.
    private let condition = NSCondition()
    private let parties: Int
    private var arrived = 0
    private var cancelled = false

    public init(parties: Int) { self.parties = parties }

    /// Waits until every party arrived or the barrier was cancelled (see `isCancelled`).
    public func arriveAndWait() {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        if arrived >= parties {
            condition.broadcast()
            return
        }
        while arrived < parties && !cancelled { condition.wait() }
    }

    /// Releases every waiting party; they find `isCancelled` true.
    public func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    public var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }
}
