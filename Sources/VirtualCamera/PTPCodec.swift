import Foundation

/// PTP/IP packet types (CIPA DC-005), as libgphoto2's ptpip driver sends and expects them.
enum PTPIPPacket: UInt32 {
    case initCommandRequest = 1
    case initCommandAck = 2
    case initEventRequest = 3
    case initEventAck = 4
    case initFail = 5
    case operationRequest = 6
    case operationResponse = 7
    case event = 8
    case startData = 9
    case data = 10
    case cancel = 11
    case endData = 12
    case probeRequest = 13
    case probeResponse = 14
}

/// PTP operation codes the virtual camera answers.
enum PTPOperation {
    static let getDeviceInfo: UInt16 = 0x1001
    static let openSession: UInt16 = 0x1002
    static let closeSession: UInt16 = 0x1003
    static let getStorageIDs: UInt16 = 0x1004
    static let getStorageInfo: UInt16 = 0x1005
    static let getObjectHandles: UInt16 = 0x1007
    static let getObjectInfo: UInt16 = 0x1008
    static let getObject: UInt16 = 0x1009
    static let deleteObject: UInt16 = 0x100B
    static let initiateCapture: UInt16 = 0x100E
    static let getDevicePropDesc: UInt16 = 0x1014
    static let getDevicePropValue: UInt16 = 0x1015
    static let setDevicePropValue: UInt16 = 0x1016
    static let getPartialObject: UInt16 = 0x101B

    static let supported: [UInt16] = [
        getDeviceInfo, openSession, closeSession, getStorageIDs, getStorageInfo, getObjectHandles, getObjectInfo,
        getObject, deleteObject, initiateCapture, getDevicePropDesc, getDevicePropValue, setDevicePropValue,
    ]
}

/// PTP response codes.
enum PTPResponse {
    static let ok: UInt16 = 0x2001
    static let generalError: UInt16 = 0x2002
    static let sessionNotOpen: UInt16 = 0x2003
    static let operationNotSupported: UInt16 = 0x2005
    static let parameterNotSupported: UInt16 = 0x2006
    static let invalidStorageID: UInt16 = 0x2008
    static let invalidObjectHandle: UInt16 = 0x2009
    static let devicePropNotSupported: UInt16 = 0x200A
    static let storeFull: UInt16 = 0x200C
    static let accessDenied: UInt16 = 0x200F
    static let deviceBusy: UInt16 = 0x2019
    static let invalidDevicePropFormat: UInt16 = 0x201B
    static let invalidDevicePropValue: UInt16 = 0x201C
    static let invalidParameter: UInt16 = 0x201D
}

/// PTP event codes.
enum PTPEvent {
    static let objectAdded: UInt16 = 0x4002
    static let objectRemoved: UInt16 = 0x4003
    static let devicePropChanged: UInt16 = 0x4006
    static let captureComplete: UInt16 = 0x400D

    static let supported: [UInt16] = [objectAdded, objectRemoved, devicePropChanged, captureComplete]
}

/// PTP object format codes.
enum PTPFormat {
    static let association: UInt16 = 0x3001
    static let jpeg: UInt16 = 0x3801
    static let dng: UInt16 = 0x3811
}

/// PTP property data types.
enum PTPDataType {
    static let uint8: UInt16 = 0x0002
    static let uint16: UInt16 = 0x0004
    static let uint32: UInt16 = 0x0006
    static let string: UInt16 = 0xFFFF
}

/// Little-endian writer for PTP datasets and PTP/IP packets.
struct PTPWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8)) }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8((v >> (8 * UInt64(i))) & 0xFF)) } }

    /// A PTP string: a count of UCS-2 units including the terminator, then the units; empty is one zero byte.
    mutating func string(_ s: String) {
        let units = Array(s.utf16.prefix(254))
        if units.isEmpty { u8(0); return }
        u8(UInt8(units.count + 1))
        for unit in units { u16(unit) }
        u16(0)
    }

    /// A NUL-terminated UCS-2LE string, as the PTP/IP handshake carries names.
    mutating func terminatedString(_ s: String) {
        for unit in s.utf16 { u16(unit) }
        u16(0)
    }

    mutating func array16(_ values: [UInt16]) { u32(UInt32(values.count)); for v in values { u16(v) } }
    mutating func array32(_ values: [UInt32]) { u32(UInt32(values.count)); for v in values { u32(v) } }
}

/// A malformed packet or dataset from the host.
struct PTPDecodingError: Error, CustomStringConvertible {
    var description: String
}

/// Little-endian reader over a received payload.
struct PTPReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws -> UInt8 {
        guard remaining >= 1 else { throw PTPDecodingError(description: "payload ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws -> UInt16 {
        guard remaining >= 2 else { throw PTPDecodingError(description: "payload ends early") }
        defer { offset += 2 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    mutating func u32() throws -> UInt32 {
        guard remaining >= 4 else { throw PTPDecodingError(description: "payload ends early") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return v
    }

    mutating func string() throws -> String {
        let count = Int(try u8())
        if count == 0 { return "" }
        var units: [UInt16] = []
        for _ in 0..<count { units.append(try u16()) }
        if units.last == 0 { units.removeLast() }
        return String(decoding: units, as: UTF16.self)
    }
}
