import Foundation
import Imaging

/// Live view: what the sensor sees now, rendered at half the frame size and sent as a JPEG, the way bodies stream
/// their electronic viewfinder to a host.
extension VirtualCamera {
    /// Width and height of a live-view frame.
    public var liveViewSize: (width: Int, height: Int) { (max(8, configuration.width / 2), max(8, configuration.height / 2)) }

    /// Rendered again only when a setting changed since the last frame (see `liveViewCache`).
    func liveViewJPEG() -> [UInt8] {
        let (shot, cached) = state.withLock { s in (s.settings, s.liveViewCache) }
        if let cached, cached.settings == shot { return cached.jpeg }
        let size = liveViewSize
        let frame = renderer.renderLinear(scene, settings: shot).resizedByArea(width: size.width, height: size.height).displayEncoded()
        let jpeg = (try? JPEGFile.encode(frame.raster8(), quality: 80)).map { [UInt8]($0) } ?? []
        state.withLock { s in s.liveViewCache = (shot, jpeg) }
        return jpeg
    }

    /// Canon EOS GetViewFinderData: blobs of u32 length (header included), u32 type, data; type 1 is the JPEG.
    /// Until the host has switched the viewfinder to the PC output the body answers "not ready" (0xA102).
    func eosViewFinderFrame() -> Reply {
        let on = state.withLock { s in s.eos.liveView }
        guard on else { return .code(CanonEOS.notReady) }
        let jpeg = liveViewJPEG()
        var w = PTPWriter()
        w.u32(UInt32(8 + jpeg.count))
        w.u32(1)
        w.bytes += jpeg
        return .data(w.bytes)
    }

    /// Nikon GetLiveViewImg: a header (here 384 bytes: the JPEG's size and the frame's and the sensor's size,
    /// big-endian as Nikon writes them) and then the JPEG. Refused (NotLiveView 0xA00B) while live view is off.
    func nikonLiveViewFrame() -> Reply {
        let on = state.withLock { s in s.nikonLiveView }
        guard on else { return .code(Nikon.notLiveView) }
        let jpeg = liveViewJPEG()
        var header = [UInt8](repeating: 0, count: Nikon.liveViewHeaderSize)
        func put16(_ v: Int, at i: Int) { header[i] = UInt8((v >> 8) & 0xFF); header[i + 1] = UInt8(v & 0xFF) }
        func put32(_ v: Int, at i: Int) { for k in 0..<4 { header[i + k] = UInt8((v >> (8 * (3 - k))) & 0xFF) } }
        put32(jpeg.count, at: 0)
        put16(liveViewSize.width, at: 4)
        put16(liveViewSize.height, at: 6)
        put16(configuration.width, at: 8)
        put16(configuration.height, at: 10)
        return .data(header + jpeg)
    }
}
