import Foundation

/// A first-in, first-out queue of bounded capacity between threads, for pipelines whose stages run on their own
/// threads: `send` waits while the queue is full, `receive` while it is empty. `close` ends it from either side:
/// receivers get what is left and then nil, senders get false (so a stage stops when the one after it gave up).
public final class BoundedChannel<Element: Sendable>: @unchecked Sendable {
    // Unchecked: `condition` guards `items` and `closed`, which are touched only while it is locked. A condition
    // variable is needed to wait, which LockedValue does not offer.
    private let condition = NSCondition()
    private var items: [Element] = []
    private var closed = false
    public let capacity: Int

    /// A capacity of 0 makes a channel that holds nothing: every `offer` is refused and `send` waits for `close`
    /// (a producer that offers, and keeps what is refused elsewhere, can run with no queue at all).
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Waits for room and appends; false (and nothing sent) once the channel is closed.
    @discardableResult
    public func send(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(element)
        condition.broadcast()
        return true
    }

    /// Appends without waiting: false (and nothing sent) when the channel is full or closed, for a producer that
    /// must never be held up and keeps what did not fit elsewhere.
    public func offer(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard items.count < capacity, !closed else { return false }
        items.append(element)
        condition.broadcast()
        return true
    }

    /// The elements waiting now.
    public var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return items.count
    }

    /// Waits for an element; nil once the channel is closed and empty.
    public func receive() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !items.isEmpty else { return nil }
        let element = items.removeFirst()
        condition.broadcast()
        return element
    }

    /// No more sends; waiting senders and receivers wake up.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
