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
