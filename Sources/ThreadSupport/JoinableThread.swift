#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread that its creator joins, and that gives up what it captured before it ends.
///
/// Foundation's `Thread { ... }` keeps its closure until the `Thread` object is deallocated, which can happen in
/// the exiting thread's thread-specific-data destructors - after libdispatch has already torn down that thread's
/// state. An object released there that owns a dispatch queue (a GRDB database, say) corrupts the heap. Here the
/// start routine drops the closure, and with it everything the closure captured, before it returns, and the
/// creator `join()`s, so no thread outlives the work its creator waits for.
public final class JoinableThread: Sendable {
    /// pthread_t is an integer on Linux and a pointer on Darwin; either way it is only handed back to pthread_join.
    private struct Handle: @unchecked Sendable { var value: pthread_t }

    private let handle: Handle
    private let joined = LockedValue(false)
    public let name: String

    /// Starts `body` on a new thread with a stack of `stackSize` bytes (8 MiB by default: alignment and the
    /// network keep large frames on the stack).
    public init(name: String, stackSize: Int = 8 << 20, _ body: @escaping @Sendable () -> Void) throws(ThreadStartError) {
        self.name = name
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, max(stackSize, 64 << 10))
        let start = Unmanaged.passRetained(StartRoutine(name: name, body: body)).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let status = pthread_create(&thread, &attributes, { raw in
            // Take ownership and run; the routine (and every capture of the closure) is released at the end of
            // this statement, while the thread is still fully alive.
            Unmanaged<StartRoutine>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, start)
        guard status == 0 else {
            Unmanaged<StartRoutine>.fromOpaque(start).release()
            throw ThreadStartError(name: name, code: status)
        }
        #if canImport(Darwin)
        handle = Handle(value: thread!)
        #else
        handle = Handle(value: thread)
        #endif
    }

    /// Waits for the thread to finish. Safe to call more than once and from several threads; every call returns
    /// only once the thread has ended.
    public func join() {
        joined.withLock { done in
            guard !done else { return }
            pthread_join(handle.value, nil)
            done = true
        }
    }

    deinit {
        // A thread nobody joined would outlive its owner; join rather than detach so that the rule holds even
        // for a forgotten join.
        join()
    }

    /// Runs `body` on a dedicated thread (for its stack size) and waits for it, returning its result.
    public static func run<T: Sendable>(name: String, stackSize: Int = 8 << 20,
                                        _ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = LockedValue<Result<T, Error>?>(nil)
        let thread = try JoinableThread(name: name, stackSize: stackSize) {
            let r = Result { try body() }
            result.withLock { $0 = r }
        }
        thread.join()
        return try result.withLock { $0! }.get()
    }
}

/// A thread could not be started (the system is out of threads or memory).
public struct ThreadStartError: Error, CustomStringConvertible {
    public let name: String
    public let code: Int32
    public var description: String { "cannot start the \(name) thread: \(String(cString: strerror(code)))" }
}

private final class StartRoutine {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }

    func run() {
        setThreadName(name)
        body()
    }
}

#if canImport(Glibc)
/// glibc's pthread_setname_np is behind _GNU_SOURCE, which the Glibc module does not define: look it up instead.
private let setName: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32).self)
}()

/// Names the calling thread for debuggers, `top -H` and sanitizer reports (Linux allows 15 bytes).
private func setThreadName(_ name: String) {
    _ = setName?(pthread_self(), String(decoding: name.utf8.prefix(15), as: UTF8.self))
}
#else
private func setThreadName(_ name: String) { _ = pthread_setname_np(name) }
#endif

extension JoinableThread {
    /// Runs blocking `body` on a thread of its own and awaits its result without holding one of Swift's
    /// cooperative threads (a server in the same process needs them); the thread is joined before this returns.
    public static func awaiting<T: Sendable>(name: String, stackSize: Int = 8 << 20,
                                             _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let thread = LockedValue<JoinableThread?>(nil)
        let result: Result<T, Error> = await withCheckedContinuation { continuation in
            do {
                let started = try JoinableThread(name: name, stackSize: stackSize) {
                    continuation.resume(returning: Result { try body() })
                }
                thread.withLock { $0 = started }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        // Assigned before the await above could return; the body has finished, so the join is short.
        thread.withLock { t -> JoinableThread? in defer { t = nil }; return t }?.join()
        return try result.get()
    }
}
