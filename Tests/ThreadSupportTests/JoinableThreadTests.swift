import Foundation
import Testing
import ThreadSupport
#if canImport(Glibc)
import Glibc
#endif

/// An event log shared between a test and the threads it starts.
private let log = LockedValue<[String]>([])

/// Records its release: stands for an object with a non-trivial deinit (a database, a dispatch queue owner).
private final class Witness: Sendable {
    let name: String
    init(_ name: String) { self.name = name }
    deinit { log.withLock { $0.append("released \(name)") } }
}

/// A thread-specific value whose destructor runs in the thread's exit teardown, and logs when it does.
private let teardownKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { _ in log.withLock { $0.append("teardown") } }
    return key
}()

@Suite(.serialized) struct JoinableThreadTests {
    /// What the body captured is released by the start routine, before the thread's exit teardown begins - the
    /// order a Foundation `Thread {}` does not keep.
    @Test func capturesAreReleasedBeforeTheThreadTearsDown() throws {
        log.withLock { $0 = [] }
        // Only the closure holds the witness, so its release is the closure's. The body waits until this thread
        // has let go of its own reference to the closure (the call's argument), so that the started thread's
        // routine holds the last one - otherwise a slow creator (ThreadSanitizer, a loaded machine) releases it
        // here, after the other thread's teardown, and the order says nothing about JoinableThread.
        let creatorDone = DispatchSemaphore(value: 0)
        let thread = try JoinableThread(name: "witness") { [witness = Witness("dataset")] in
            creatorDone.wait()
            pthread_setspecific(teardownKey, UnsafeRawPointer(bitPattern: 1))
            _ = witness.name
        }
        creatorDone.signal()
        thread.join()
        #expect(log.value == ["released dataset", "teardown"])
    }

    /// join() returns only once the body has finished, and may be called again.
    @Test func joinWaitsForTheBody() throws {
        let done = LockedValue(false)
        let thread = try JoinableThread(name: "sleeper") {
            usleep(50_000)
            done.withLock { $0 = true }
        }
        thread.join()
        #expect(done.value)
        thread.join()
    }

    /// run() hands back the body's result or its error, and gives the body the stack it asked for.
    @Test func runReturnsResultsAndErrors() throws {
        struct Failure: Error, Equatable {}
        let sum = try JoinableThread.run(name: "big-stack", stackSize: 32 << 20) { () -> Int in
            // A 16 MiB frame would overflow a default 8 MiB thread stack.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16 << 20) { buffer in
                buffer.initialize(repeating: 1)
                return buffer.reduce(0) { $0 + Int($1) }
            }
        }
        #expect(sum == 16 << 20)
        #expect(throws: Failure.self) { try JoinableThread.run(name: "failing") { () throws -> Int in throw Failure() } }
    }

    /// Many threads updating one box lose no update.
    @Test func lockedValueIsExclusive() throws {
        let counter = LockedValue(0)
        let threads = try (0..<8).map { i in
            try JoinableThread(name: "counter-\(i)") {
                for _ in 0..<10_000 { counter.withLock { $0 += 1 } }
            }
        }
        for t in threads { t.join() }
        #expect(counter.value == 80_000)
    }
}
