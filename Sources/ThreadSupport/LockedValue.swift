import Foundation

/// One shareable, lock-protected value: the box every module uses for state that several threads read and write,
/// instead of a class marked `@unchecked Sendable` with a lock beside its fields.
///
/// The lock is a pthread mutex (NSLock) rather than the Synchronization module's `Mutex`: on Linux `Mutex` is a
/// futex driven by atomics in the uninstrumented standard library, so ThreadSanitizer cannot see it order
/// anything and reports every access it protects as a race. A pthread mutex it intercepts and understands.
public final class LockedValue<Value: Sendable>: @unchecked Sendable {
    // Unchecked: `lock` guards `stored`, and `stored` is reachable only through `withLock`.
    private let lock = NSLock()
    private var stored: Value

    public init(_ value: Value) { stored = value }

    /// Runs `body` with exclusive access to the value.
    public func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&stored)
    }
}

extension LockedValue {
    /// A copy of the value, read under the lock.
    public var value: Value { withLock { $0 } }
}
