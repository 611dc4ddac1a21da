import Foundation
import Imaging
import PairVocabulary
import ThreadSupport

/// The dashboard's state and the pairs' thumbnails, written by the capture thread and the pipeline's worker and
/// read by the server. Thumbnails are made on a thread of their own, so a RAW file's decode never holds up the
/// next pair or a page request.
public final class DashboardFeed: Sendable {
    private let state: LockedValue<DashboardState>
    private let thumbnails = LockedValue<[ThumbnailKey: Data]>([:])
    private let jobs = BoundedChannel<ThumbnailJob>(capacity: 64)
    private let worker = LockedValue<JoinableThread?>(nil)

    /// Thumbnails kept, newest pairs first: enough for the pairs the page lists, small enough to ignore
    /// (about 15 kB each).
    public static let thumbnailsKept = 200
    /// The longer side of a thumbnail, in pixels.
    public static let thumbnailSide = 240

    struct ThumbnailKey: Hashable {
        let pair: Int
        let role: CameraRole
    }

    struct ThumbnailJob: Sendable {
        let pair: Int
        let load: @Sendable (CameraRole) throws -> (data: Data, path: String)
    }

    public init(_ initial: DashboardState) throws {
        state = LockedValue(initial)
        let jobs = self.jobs, state = self.state, thumbnails = self.thumbnails
        // Holds only the channel and the two boxes, never the feed: the feed's `close` joins it.
        let thread = try JoinableThread(name: "dashboard-thumbnails") {
            while let job = jobs.receive() {
                var made: [ThumbnailKey: Data] = [:]
                for role in CameraRole.allCases {
                    if let (data, path) = try? job.load(role), let jpeg = try? Self.thumbnail(data, path: path) {
                        made[ThumbnailKey(pair: job.pair, role: role)] = jpeg
                    }
                }
                thumbnails.withLock { kept in
                    kept.merge(made) { _, new in new }
                    kept = kept.filter { $0.key.pair > job.pair - Self.thumbnailsKept }
                }
                state.withLock { $0.apply(.thumbnails(number: job.pair, ready: made.count == CameraRole.allCases.count)) }
            }
        }
        worker.withLock { $0 = thread }
    }

    public func apply(_ event: DashboardEvent) { state.withLock { $0.apply(event) } }

    public var snapshot: DashboardState { state.withLock { $0 } }

    /// The thumbnail of one camera's frame of pair `number`, once made.
    public func thumbnail(pair number: Int, role: CameraRole) -> Data? {
        thumbnails.withLock { $0[ThumbnailKey(pair: number, role: role)] }
    }

    /// Queues pair `number`'s thumbnails; `load` reads one camera's file (bytes and the name its errors carry).
    public func makeThumbnails(pair number: Int, load: @escaping @Sendable (CameraRole) throws -> (data: Data, path: String)) {
        if !jobs.offer(ThumbnailJob(pair: number, load: load)) { apply(.thumbnails(number: number, ready: false)) }
    }

    /// Stops the thumbnail thread after the queued pairs and joins it.
    public func close() {
        jobs.close()
        let thread = worker.withLock { t -> JoinableThread? in defer { t = nil }; return t }
        thread?.join()
    }

    /// A small JPEG of a camera file (RAW or not), for display: bilinear demosaicing is plenty at this size and
    /// much cheaper than the AHD the pipeline uses.
    static func thumbnail(_ data: Data, path: String) throws -> Data {
        var image = try ImageFile.decode(data, path: path, demosaic: .bilinear)
        if image.transfer != .display { image = image.displayEncoded() }
        return try JPEGFile.encode(image.downscaled(maxSide: thumbnailSide).raster8(), quality: 80)
    }
}
