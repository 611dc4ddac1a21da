import Foundation

/// The safetensors format (an 8-byte little-endian header length, a JSON header, then the raw tensors): the
/// engine's own weight format, because reading it needs no code execution and maps straight to `Tensor`.
public enum SafeTensors {
    /// Headers beyond this are refused rather than parsed (the reference implementation's limit too).
    public static let maxHeaderBytes = 100 << 20

    /// Reads every tensor, converted to float32 (F32, F16, BF16, F64 and integer types are accepted).
    public static func read(_ url: URL) throws -> TensorDictionary {
        try decode(try WeightFileIO.read(url), path: url.path)
    }

    /// The string-to-string `__metadata__` entry, empty when there is none.
    public static func readMetadata(_ url: URL) throws -> [String: String] {
        try decodeMetadata(try WeightFileIO.read(url), path: url.path)
    }

    public static func decode(_ data: Data, path: String) throws -> TensorDictionary {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            let header = try parseHeader(bytes, path: path)
            let buffer = UnsafeRawBufferPointer(rebasing: bytes[header.dataStart...])
            var result: TensorDictionary = [:]
            for entry in header.entries {
                let raw = UnsafeRawBufferPointer(rebasing: buffer[entry.range])
                let count = entry.range.count / entry.type.size
                var strides = [Int](repeating: 1, count: entry.shape.count)
                for d in entry.shape.indices.reversed().dropFirst() { strides[d] = strides[d + 1] * entry.shape[d + 1] }
                result[entry.name] = try materialize(storage: raw, type: entry.type, storageCount: count, offset: 0,
                                                     shape: entry.shape, strides: strides, path: path, tensor: entry.name)
            }
            return result
        }
    }

    public static func decodeMetadata(_ data: Data, path: String) throws -> [String: String] {
        try data.withUnsafeBytes { try parseHeader($0, path: path).metadata }
    }

    /// The file's bytes: tensors in key order (by UTF-8 bytes), stored as little-endian F32, the header's keys in
    /// the same order and padded with spaces to a multiple of 8, so equal inputs give identical files.
    public static func encode(_ tensors: TensorDictionary, metadata: [String: String]) throws -> Data {
        func before(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        let names = tensors.keys.sorted(by: before)
        for name in names where name == "__metadata__" {
            throw WeightFileError.badTensor(path: "(safetensors encoding)", tensor: name, detail: "the name is reserved")
        }
        var header = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted(by: before).map { HeaderJSON.quote($0) + ":" + HeaderJSON.quote(metadata[$0] ?? "") }
            fields.append("\"__metadata__\":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        for name in names {
            guard let t = tensors[name] else { continue }
            let end = offset + 4 * t.count
            fields.append(HeaderJSON.quote(name) + ":{\"dtype\":\"F32\",\"shape\":["
                          + t.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += fields.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for name in names {
            guard let t = tensors[name] else { continue }
            #if _endian(little)
            t.data.withUnsafeBytes { out.append(contentsOf: $0) }
            #else
            for v in t.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            #endif
        }
        return out
    }

    /// Encodes and writes atomically (temporary file, fsync, rename).
    public static func write(_ tensors: TensorDictionary, metadata: [String: String], to url: URL) throws {
        let data = try encode(tensors, metadata: metadata)
        try WeightFileIO.writeAtomically(data, to: url)
    }

    struct Entry {
        let name: String
        let type: ElementType
        let shape: [Int]
        /// Within the data buffer.
        let range: Range<Int>
    }

    struct Header {
        let entries: [Entry]
        let metadata: [String: String]
        let dataStart: Int
    }

    static let types: [String: ElementType] = [
        "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64,
        "I64": .int64, "I32": .int32, "I16": .int16, "I8": .int8, "U8": .uint8, "BOOL": .bool,
    ]

    /// Parses and validates the header: every tensor's bytes lie in the buffer, match its shape and dtype, and
    /// the tensors tile the buffer without gaps or overlaps, as the reference implementation requires.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Header {
        guard bytes.count >= 8 else { throw WeightFileError.corrupt(path: path, field: "header size", detail: "the file is shorter than 8 bytes") }
        let size = loadLE(bytes, 0, 8)
        guard size <= UInt64(maxHeaderBytes) else {
            throw WeightFileError.corrupt(path: path, field: "header size", detail: "\(size) bytes (limit \(maxHeaderBytes))")
        }
        guard size <= UInt64(bytes.count - 8) else {
            throw WeightFileError.corrupt(path: path, field: "header size", detail: "\(size) bytes, but the file has \(bytes.count - 8) after it")
        }
        let dataStart = 8 + Int(size)
        let json: HeaderJSON
        do {
            json = try HeaderJSON.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart]))
        } catch {
            throw WeightFileError.corrupt(path: path, field: "header", detail: "\(error.detail) at header byte \(error.offset)")
        }
        guard case .object(let members) = json else {
            throw WeightFileError.corrupt(path: path, field: "header", detail: "not a JSON object")
        }
        let bufferSize = bytes.count - dataStart
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        var names = Set<String>()
        for (name, value) in members {
            guard names.insert(name).inserted else {
                throw WeightFileError.corrupt(path: path, field: "header", detail: "'\(name)' appears twice")
            }
            if name == "__metadata__" {
                guard case .object(let items) = value else {
                    throw WeightFileError.corrupt(path: path, field: "__metadata__", detail: "not an object")
                }
                for (k, v) in items {
                    guard case .string(let s) = v else {
                        throw WeightFileError.corrupt(path: path, field: "__metadata__.\(k)", detail: "not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            func bad(_ detail: String) -> WeightFileError { .badTensor(path: path, tensor: name, detail: detail) }
            guard case .object(let fields) = value else { throw bad("header entry is not an object") }
            var dtype: String?, shapeValue: [HeaderJSON]?, offsets: [HeaderJSON]?
            for (k, v) in fields {
                switch (k, v) {
                case ("dtype", .string(let s)): dtype = s
                case ("shape", .array(let a)): shapeValue = a
                case ("data_offsets", .array(let a)): offsets = a
                default: throw bad("unexpected header field '\(k)'")
                }
            }
            guard let dtype, let shapeValue, let offsets else { throw bad("needs dtype, shape and data_offsets") }
            guard let type = types[dtype] else {
                throw WeightFileError.unsupported(path: path, field: "tensor '\(name)'", detail: "dtype \(dtype)")
            }
            guard shapeValue.count <= 64 else { throw bad("\(shapeValue.count) dimensions") }
            var shape: [Int] = []
            var count: UInt64 = 1
            for d in shapeValue {
                guard case .integer(let n) = d, n <= UInt64(bufferSize) else { throw bad("bad dimension in shape") }
                let (p, overflow) = count.multipliedReportingOverflow(by: n)
                guard !overflow else { throw bad("shape overflows") }
                count = p
                shape.append(Int(n))
            }
            guard offsets.count == 2, case .integer(let begin) = offsets[0], case .integer(let end) = offsets[1],
                  begin <= end, end <= UInt64(bufferSize) else {
                throw bad("data_offsets are not [begin, end] within the \(bufferSize)-byte buffer")
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: UInt64(type.size))
            guard !overflow, byteCount == end - begin else {
                throw bad("\(end - begin) bytes for shape \(shape) of \(dtype)")
            }
            entries.append(Entry(name: name, type: type, shape: shape, range: Int(begin)..<Int(end)))
        }
        var expected = 0
        for entry in entries.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            guard entry.range.lowerBound == expected else {
                throw WeightFileError.badTensor(path: path, tensor: entry.name,
                                                detail: entry.range.lowerBound < expected ? "overlaps another tensor" : "leaves a gap before it")
            }
            expected = entry.range.upperBound
        }
        guard expected == bufferSize else {
            throw WeightFileError.corrupt(path: path, field: "data", detail: "\(bufferSize - expected) bytes after the last tensor")
        }
        return Header(entries: entries, metadata: metadata, dataStart: dataStart)
    }
}
