import DatasetBuilder
import Foundation
import PairVocabulary
import Review
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A dataset of `count` synthetic pairs: scenes `scene-(i % 4)`, pair 4 and 9 rejected, even ones in test, a
/// `p95Shift` of i/10 on every pair but pair 3, and a PSNR for the `input` baseline on every pair.
/// Returns the dataset and the pair ids in insertion order.
func makeReviewDataset(in dir: URL, count: Int = 10) throws -> (Dataset, [PairID]) {
    let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
    let scratch = dir.appendingPathComponent("scratch")
    let model = try dataset.registerModel(ModelInput(name: "input", weights: nil))
    var ids: [PairID] = []
    for i in 0..<count {
        let item = try SyntheticCapture.make(index: i, seed: 3, in: scratch, width: 32, height: 24, scenes: 4)
        let capture = try dataset.ingestCapture(item.capture)
        var pair = item.pair(captureID: capture.id, verdict: i % 5 == 4 ? .rejected : .accepted)
        pair.split = i % 2 == 0 ? .test : .train
        pair.quality = i == 3 ? ["ecc": 0.9] : ["ecc": 0.9, "p95Shift": Double(i) / 10]
        let added = try dataset.addPair(pair)
        ids.append(added.id)
        try dataset.recordEvaluation(EvaluationInput(pairID: added.id, modelID: model.id, psnr: 20 + Double((i * 3) % 7),
                                                     ssim: 0.5))
    }
    return (dataset, ids)
}

/// A review server on a free loopback port, stopped by `stop()` (the tests call it in a `defer`-like tail).
struct RunningServer {
    let port: Int
    let task: Task<Void, Error>
    /// Finished by `stop()`, which ends the server's `until`.
    let stopping: AsyncStream<Void>.Continuation

    static func start(_ dataset: Dataset, token: String? = nil,
                      configure: (inout ReviewOptions) -> Void = { _ in }) async throws -> RunningServer {
        let (stream, continuation) = AsyncStream.makeStream(of: ReviewAddress.self)
        let (stopSignal, stopping) = AsyncStream.makeStream(of: Void.self)
        var options = ReviewOptions(host: "127.0.0.1", port: 0, token: token)
        configure(&options)
        let server = ReviewServer(dataset: dataset, options: options)
        let task = Task {
            defer { continuation.finish() }
            try await server.run(until: { for await _ in stopSignal {} }) { address in continuation.yield(address) }
        }
        var iterator = stream.makeAsyncIterator()
        guard let address = await iterator.next() else {
            stopping.finish()
            _ = try await task.value
            throw HTTPTestError("the server stopped before it listened")
        }
        return RunningServer(port: address.port, task: task, stopping: stopping)
    }

    /// A graceful stop, as Ctrl-C stops `rigctl review`: cancelling the task instead makes Hummingbird log two errors.
    func stop() async {
        stopping.finish()
        _ = try? await task.value
    }

    func request(_ path: String, headers: [String: String] = [:], host: String? = nil) async throws -> HTTPReply {
        try await request("GET", path, headers: headers, host: host)
    }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], host: String? = nil,
                 body: Data? = nil) async throws -> HTTPReply {
        try await HTTPClient.send(method: method, port: port, path: path, host: host ?? "127.0.0.1:\(port)",
                                  headers: headers, body: body)
    }

    func json(_ path: String, headers: [String: String] = [:]) async throws -> [String: Any] {
        let reply = try await request(path, headers: headers)
        guard reply.status == 200 else { throw HTTPTestError("GET \(path): \(reply.status) \(reply.text)") }
        return try reply.object()
    }
}

