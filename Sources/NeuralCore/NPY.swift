import AtomicFiles
import Foundation

/// Why a `.npy` file could not be read.
public struct NPYError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): not a usable .npy array: \(reason)" }
}

/// NumPy's `.npy` format (versions 1-3), for reference arrays in tests and fixtures. Only little-endian float32 and
/// float64 arrays in C order are accepted; float64 is narrowed to float32.
public enum NPYFile {
    public static func read(_ url: URL) throws -> Tensor {
        let data: Data
        do { data = try FileContents.read(path: url.path) } catch let error as FileReadError {
            throw NPYError(path: url.path, reason: "cannot read the file (\(error.reason))")
        }
        return try decode(data, path: url.path)
    }

    public static func decode(_ data: Data, path: String = "<memory>") throws -> Tensor {
        let bytes = [UInt8](data)
        func fail(_ reason: String) -> NPYError { NPYError(path: path, reason: reason) }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw fail("missing the \\x93NUMPY signature")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("truncated header") }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
            throw fail("header is not text")
        }
        guard let descr = field("descr", in: header) else { throw fail("header has no descr") }
        let elementSize: Int
        switch descr {
        case "'<f4'": elementSize = 4
        case "'<f8'": elementSize = 8
        default: throw fail("unsupported dtype \(descr); only little-endian float32/float64")
        }
        guard let fortran = field("fortran_order", in: header), fortran == "False" else {
            throw fail("only C-ordered arrays are supported")
        }
        guard let shapeText = field("shape", in: header) else { throw fail("header has no shape") }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let d = Int(t), d >= 0, d < 1 << 32 else { throw fail("bad dimension '\(t)' in shape") }
            shape.append(d)
        }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p < 1 << 34 else { throw fail("shape \(shape) is absurdly large") }
            count = p
        }
        let start = headerStart + headerLength
        guard bytes.count - start == count * elementSize else {
            throw fail("expected \(count * elementSize) data bytes for shape \(shape), found \(bytes.count - start)")
        }
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + start
            if elementSize == 4 {
                for i in 0..<count {
                    values[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            } else {
                for i in 0..<count {
                    values[i] = Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                }
            }
        }
        return Tensor(shape: shape, data: values)
    }

    /// Encodes a tensor as a version-1 float32 `.npy` file, so results can be inspected with NumPy.
    public static func encode(_ tensor: Tensor) -> Data {
        let dims = tensor.shape.map(String.init).joined(separator: ", ") + (tensor.rank == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = header.utf8.count
        data.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tensor.data.withUnsafeBufferPointer { buffer in
            for v in buffer {
                var bits = v.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// The text of `'key': value` in the header dictionary, up to the next top-level comma.
    private static func field(_ key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)':") else { return nil }
        var depth = 0
        var value = ""
        for ch in header[range.upperBound...] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if (ch == "," && depth == 0) || ch == "}" { break }
            value.append(ch)
        }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
