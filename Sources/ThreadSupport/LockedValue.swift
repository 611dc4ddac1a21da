import Synchronization

/// One shareable, lock-protected value: the box every module uses for state that several threads read and write,
/// instead of a class marked `@unchecked Sendable` with a lock beside its fields.
public final class LockedValue<Value>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: sending Value) { mutex = Mutex(value) }

    /// Runs `body` with exclusive access to the value.
    public func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        try mutex.withLock(body)
    }
}

extension LockedValue where Value: Sendable {
    /// A copy of the value, read under the lock.
    public var value: Value { withLock { $0 } }
}
