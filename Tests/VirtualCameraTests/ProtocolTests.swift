import Foundation
import Testing
import VirtualCamera
#if canImport(Glibc)
import Glibc
#endif

/// The virtual camera facing a host that does not follow the protocol.
@Suite struct ProtocolTests {
    func connect(_ port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(r == 0, "connect failed")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }

    func readPacket(_ fd: Int32) -> (length: UInt32, type: UInt32)? {
        var header = [UInt8](repeating: 0, count: 8)
        let n = recv(fd, &header, 8, Int32(MSG_WAITALL))
        guard n == 8 else { return nil }
        let length = header[0..<4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        let type = header[4..<8].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        if length > 8 {
            var rest = [UInt8](repeating: 0, count: Int(length) - 8)
            _ = recv(fd, &rest, rest.count, Int32(MSG_WAITALL))
        }
        return (length, type)
    }

    @Test func garbageEndsTheSessionAndTheCameraServesTheNextHost() throws {
        let camera = try VirtualCamera(configuration: VirtualCameraConfiguration(name: "robust", serialNumber: "R-1", width: 64, height: 48),
                                       scene: Scene.builtIn(.planes, width: 64, height: 48))
        camera.start()
        defer { camera.stop() }

        // A packet claiming an absurd length, then random bytes.
        let bad = try connect(camera.commandPort)
        let garbage: [UInt8] = le32(0xFFFF_FFF0) + le32(1) + [UInt8](repeating: 0xAB, count: 64)
        _ = garbage.withUnsafeBytes { send(bad, $0.baseAddress, garbage.count, Int32(MSG_NOSIGNAL)) }
        #expect(readPacket(bad) == nil, "the camera drops a host that sends garbage")
        close(bad)

        // A well-formed Init Command Request from the next host is answered with Init Command Ack.
        let good = try connect(camera.commandPort)
        var request: [UInt8] = le32(0) + le32(1) + [UInt8](repeating: 7, count: 16)
        for unit in "host".utf16 { request += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        request += [0, 0] + le32(0x0001_0000)
        request.replaceSubrange(0..<4, with: le32(UInt32(request.count)))
        _ = request.withUnsafeBytes { send(good, $0.baseAddress, request.count, Int32(MSG_NOSIGNAL)) }
        let ack = readPacket(good)
        #expect(ack?.type == 2, "Init Command Ack")
        close(good)
    }
}

/// The command-channel parser without a socket (`VirtualCamera.replay`, what the `ptpip` fuzz target drives), on
/// the fuzz seeds and on inputs the fuzzer found.
@Suite struct ReplayTests {
    static let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/ptpip")

    /// A stopped camera of `vendor` (no capture starts), as the fuzz target makes them.
    static func camera(_ vendor: VirtualVendor) throws -> VirtualCamera {
        let camera = try VirtualCamera(configuration: VirtualCameraConfiguration(name: "replay", serialNumber: "RP-\(vendor)",
                                                                                 vendor: vendor, width: 16, height: 16),
                                       scene: Scene.builtIn(.planes, width: 16, height: 16))
        camera.stop()
        return camera
    }

    /// The camera's packets: type and payload.
    static func packets(_ bytes: [UInt8]) -> [(type: UInt32, payload: [UInt8])] {
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[i + $1]) << (8 * UInt32($1)) } }
        var out: [(UInt32, [UInt8])] = []
        var i = 0
        while i + 8 <= bytes.count {
            let length = Int(u32(i))
            guard length >= 8, i + length <= bytes.count else { break }
            out.append((u32(i + 4), Array(bytes[(i + 8)..<(i + length)])))
            i += length
        }
        return out
    }

    static func responseCodes(_ bytes: [UInt8]) -> [UInt16] {
        packets(bytes).filter { $0.type == 7 }.map { UInt16($0.payload[0]) | UInt16($0.payload[1]) << 8 }
    }

    @Test func theSeedsAreAnsweredRequestByRequest() throws {
        for (name, vendor, requests) in [("generic-props", VirtualVendor.generic, 12), ("canon-eos", .canon, 15), ("nikon", .nikon, 12)] {
            let input = try [UInt8](Data(contentsOf: Self.seeds.appendingPathComponent(name)))
            let codes = Self.responseCodes(try Self.camera(vendor).replay(commandChannel: Array(input.dropFirst())))
            #expect(codes.count == requests, "\(name): \(codes.map { String($0, radix: 16) })")
            #expect(codes.prefix(2) == [0x2001, 0x2001], "\(name): GetDeviceInfo and OpenSession")
        }
    }

    /// Nikon GetEvent (0x90C7): a UINT16 count, then per event its UINT16 code and UINT32 parameter, as libgphoto2's
    /// ptp_unpack_Nikon_EC reads it. The seed sets ISO, so the first poll returns DevicePropChanged(ExposureIndex).
    @Test func nikonGetEventReturnsTheQueuedEventsOnce() throws {
        let input = try [UInt8](Data(contentsOf: Self.seeds.appendingPathComponent("nikon")))
        let packets = Self.packets(try Self.camera(.nikon).replay(commandChannel: Array(input.dropFirst())))
        // Data phases by transaction: Data and End Data payloads start with the transaction id.
        var data: [UInt32: [UInt8]] = [:]
        for p in packets where p.type == 10 || p.type == 12 {
            let id = (0..<4).reduce(UInt32(0)) { $0 | UInt32(p.payload[$1]) << (8 * UInt32($1)) }
            data[id, default: []] += p.payload.dropFirst(4)
        }
        // Requests 6 and 11 of the seed are GetEvent.
        #expect(data[6] == [1, 0, 0x06, 0x40, 0x0F, 0x50, 0, 0], "\(data[6] ?? [])")
        #expect(data[11] == [0, 0], "the second poll finds the queue empty")
    }

    /// Found by the ptpip fuzz target: a Start Data packet announcing 4 GiB made the camera reserve 4 GiB before
    /// reading a byte. A data phase over the packet limit now ends the session, unanswered.
    @Test func anAnnouncedDataPhaseOverTheLimitEndsTheSession() throws {
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }
        func packet(_ type: UInt32, _ payload: [UInt8]) -> [UInt8] { le(UInt64(8 + payload.count), 4) + le(UInt64(type), 4) + payload }
        func request(_ phase: UInt32, _ code: UInt16, _ transaction: UInt32, _ params: [UInt32]) -> [UInt8] {
            packet(6, le(UInt64(phase), 4) + le(UInt64(code), 2) + le(UInt64(transaction), 4) + params.flatMap { le(UInt64($0), 4) })
        }
        let hostile = request(1, 0x1002, 1, [1])                                   // OpenSession
            + request(2, 0x1016, 2, [0x5007])                                      // SetDevicePropValue(FNumber)
            + packet(9, le(2, 4) + le(0xFFFF_FFFF, 8))                             // Start Data: 4 GiB coming
            + packet(12, le(2, 4) + le(560, 2))                                    // End Data: f/5.6
            + request(1, 0x1004, 3, [])                                            // GetStorageIDs
        let camera = try Self.camera(.generic)
        #expect(Self.responseCodes(camera.replay(commandChannel: hostile)) == [0x2001])
        #expect(camera.currentSettings.fNumber != 5.6)
        // The same request with an honest size is answered, and the input the fuzzer found replays to its end.
        let honest = request(1, 0x1002, 1, [1]) + request(2, 0x1016, 2, [0x5007]) + packet(9, le(2, 4) + le(2, 8))
            + packet(12, le(2, 4) + le(560, 2))
        #expect(Self.responseCodes(camera.replay(commandChannel: honest)) == [0x2001, 0x2001])
        #expect(camera.currentSettings.fNumber == 5.6)
        let found = try [UInt8](Data(contentsOf: Self.seeds.appendingPathComponent("regression-oom-start-data")))
        _ = try Self.camera(.generic).replay(commandChannel: Array(found.dropFirst()))
    }
}
