/// Work items passed through a chain of stages, each stage on a thread of its own and joined to the next by a
/// `BoundedChannel` of capacity 1, while the creating thread takes the last stage's results in order: how
/// `evaluate` and `process` overlap decoding, the network and scoring of successive pairs. At most one item waits
/// between two stages and each stage holds one, so memory stays bounded whatever the number of items.
///
/// A stage says with each result whether it goes on (`more: false` after a failure that should stop the later
/// items); it then closes its output, and the stages after it end once they have passed on what they hold.
/// `isCancelled` is asked before each item in every stage. `finish()` (also run on deinit) closes every channel,
/// so stages waiting to send or receive stop at once, and joins every thread; call it before returning, on the
/// error path too. A chain made by `then` owns the stages before it: finish only the last one.
public final class StageChain<Output: Sendable> {
    private let output: BoundedChannel<Output>
    private let threads: [JoinableThread]
    private let closers: [@Sendable () -> Void]
    /// Set once a chain made by `then` owns these stages: this one no longer closes or joins them.
    private var handedOver = false

    private init(output: BoundedChannel<Output>, threads: [JoinableThread], closers: [@Sendable () -> Void]) {
        self.output = output
        self.threads = threads
        self.closers = closers
    }

    /// The first stage: `transform` runs on each input in turn (with its index) on a thread named `name`.
    public static func start<Input: Sendable>(name: String, inputs: [Input],
                                              isCancelled: @escaping @Sendable () -> Bool = { false },
                                              _ transform: @escaping @Sendable (Int, Input) -> (Output, more: Bool))
    throws -> StageChain<Output> {
        let channel = BoundedChannel<Output>(capacity: 1)
        let thread = try JoinableThread(name: name) {
            for (index, input) in inputs.enumerated() {
                guard !isCancelled() else { break }
                let (item, more) = transform(index, input)
                guard channel.send(item), more else { break }
            }
            channel.close()
        }
        return StageChain(output: channel, threads: [thread], closers: [{ channel.close() }])
    }

    /// A further stage on a thread named `name`, fed by this chain's results; the new chain owns this one.
    public func then<Next: Sendable>(name: String, isCancelled: @escaping @Sendable () -> Bool = { false },
                                     _ transform: @escaping @Sendable (Output) -> (Next, more: Bool))
    throws -> StageChain<Next> {
        let input = output
        let channel = BoundedChannel<Next>(capacity: 1)
        let thread: JoinableThread
        do {
            thread = try JoinableThread(name: name) {
                while let item = input.receive() {
                    guard !isCancelled() else { break }
                    let (next, more) = transform(item)
                    guard channel.send(next), more else { break }
                }
                channel.close()
                input.close()  // a stage before still waiting for room stops
            }
        } catch {
            finish()
            throw error
        }
        handedOver = true
        return StageChain<Next>(output: channel, threads: threads + [thread], closers: closers + [{ channel.close() }])
    }

    /// The next result, in input order; nil once the last stage has ended (all done, stopped or cancelled).
    public func receive() -> Output? { output.receive() }

    /// Closes every channel and joins every stage's thread; safe to call more than once.
    public func finish() {
        guard !handedOver else { return }
        for close in closers.reversed() { close() }
        for thread in threads.reversed() { thread.join() }
    }

    deinit { finish() }
}

extension Result {
    /// Whether it holds a value: a stage that passes on results goes on after a success and stops after a failure.
    public var isSuccess: Bool { if case .success = self { true } else { false } }
}
