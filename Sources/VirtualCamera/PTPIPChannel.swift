import Foundation

/// The command channel as a session reads and answers it: a socket in service, or bytes in memory, so that the
/// PTP/IP parser (framing, operation requests, data phases, the operations' own data) can be driven by a fuzzer
/// or a test without a connection.
protocol PTPIPChannel: AnyObject {
    /// Exactly `count` bytes, or nil at the end of the stream (or when `shouldStop` says so).
    func read(count: Int, shouldStop: () -> Bool) throws -> [UInt8]?
    func write(_ bytes: [UInt8]) throws
}

extension TCPConnection: PTPIPChannel {}

/// What a host sent, in memory: reads consume it, writes are kept.
final class PTPIPByteStream: PTPIPChannel {
    private let input: [UInt8]
    private var offset = 0
    private(set) var output: [UInt8] = []

    init(_ input: [UInt8]) { self.input = input }

    func read(count: Int, shouldStop: () -> Bool) throws -> [UInt8]? {
        guard count >= 0, count <= input.count - offset else { return nil }
        defer { offset += count }
        return Array(input[offset..<offset + count])
    }

    func write(_ bytes: [UInt8]) throws { output += bytes }
}

extension VirtualCamera {
    /// Runs the operation phase of a session over `commandChannel` (what a host would send after the PTP/IP
    /// handshake) with no socket, and returns the camera's answers. The session's state is reset afterwards, as when
    /// a host disconnects. A stopped camera starts no capture when asked for one (the fuzz target stops its cameras:
    /// the parser is under test, not the renderer). For fuzzing and protocol tests.
    public func replay(commandChannel bytes: [UInt8]) -> [UInt8] {
        let stream = PTPIPByteStream(bytes)
        try? serveOperations(stream)
        endSession()
        return stream.output
    }
}
