import Foundation

/// Reads the files `torch.save(model.state_dict())` writes, natively: no Python, no torch, and no pickle code
/// execution (see `PickleMachine`). Both container formats are handled: the zip archive of torch >= 1.6 and the
/// older "legacy" stream (which lpips's v0.1 weights use).
public enum TorchCheckpoint {
    /// Reads a torch.save file and returns every tensor in its state dict by key, converted to float32. Nested
    /// dicts are flattened with "." between the keys; values that are not tensors are skipped.
    public static func read(_ url: URL) throws -> TensorDictionary {
        let data = try WeightFileIO.read(url)
        return try decode(data, path: url.path)
    }

    /// Decodes the bytes of a torch.save file; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> TensorDictionary {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            if bytes.count >= 4, loadLE(bytes, 0, 4) == 0x0403_4b50 {
                return try decodeZip(bytes, path: path)
            }
            if bytes.count >= 2, bytes[0] == 0x80 {
                return try decodeLegacy(bytes, path: path)
            }
            throw WeightFileError.corrupt(path: path, field: "header", detail: "neither a torch zip archive nor a legacy torch file")
        }
    }

    /// The tensors a state-dict pickle describes, by key.
    static func tensorRefs(_ bytes: UnsafeRawBufferPointer, at start: Int, path: String) throws -> ([(String, TensorRef)], end: Int) {
        try PickleMachine.unpickle(bytes, at: start, path: path) { root -> [(String, TensorRef)] in
            let leaves = try flattenDicts(root, path: path) { if case .tensor = $0 { true } else { false } }
            guard !leaves.isEmpty else {
                throw WeightFileError.unsupported(path: path, field: "pickled object",
                                                  detail: "a \(root.kind) holding no tensors; expected a state dict")
            }
            return leaves.compactMap { name, value in
                if case .tensor(let ref) = value { (name, ref) } else { nil }
            }
        }
    }

    static func decodeZip(_ bytes: UnsafeRawBufferPointer, path: String) throws -> TensorDictionary {
        let archive = try ZipArchive(bytes, path: path)
        // The top folder is named after the file that was saved, so it varies: find the one data.pkl.
        let pickles = archive.entries.keys.filter { name in
            name.hasSuffix("/data.pkl") && name.dropLast("/data.pkl".count).split(separator: "/", omittingEmptySubsequences: false).count == 1
        }
        guard pickles.count == 1, let pickleName = pickles.first, let pickleEntry = archive.entries[pickleName] else {
            throw WeightFileError.corrupt(path: path, field: "zip entries",
                                          detail: pickles.isEmpty ? "no <folder>/data.pkl entry" : "several data.pkl entries")
        }
        let top = String(pickleName.dropLast("data.pkl".count))
        if let order = archive.entries[top + "byteorder"] {
            let text = String(decoding: try archive.contents(of: order, in: bytes), as: UTF8.self)
            guard text == "little" else {
                throw WeightFileError.unsupported(path: path, field: "byteorder", detail: "'\(text)' byte order")
            }
        }
        let pickle = try archive.contents(of: pickleEntry, in: bytes)
        let (refs, _) = try tensorRefs(pickle, at: 0, path: path)
        var storages: [String: UnsafeRawBufferPointer] = [:]
        for (_, ref) in refs where storages[ref.storage.key] == nil {
            let name = top + "data/" + ref.storage.key
            guard let entry = archive.entries[name] else {
                throw WeightFileError.corrupt(path: path, field: "storage \(ref.storage.key)", detail: "no zip entry \(name)")
            }
            storages[ref.storage.key] = try archive.contents(of: entry, in: bytes)
        }
        return try assemble(refs, storages: storages, path: path)
    }

    /// Turns storage views into contiguous tensors, checking each storage's size against its declaration.
    static func assemble(_ refs: [(String, TensorRef)], storages: [String: UnsafeRawBufferPointer],
                         path: String) throws -> TensorDictionary {
        var result: TensorDictionary = [:]
        let stored = storages.values.reduce(0) { $0 + $1.count }
        var budget = 4 * stored + (1 << 20)
        for (name, ref) in refs {
            guard let raw = storages[ref.storage.key] else {
                throw WeightFileError.badTensor(path: path, tensor: name, detail: "storage \(ref.storage.key) is missing")
            }
            let (bytesNeeded, overflow) = ref.storage.count.multipliedReportingOverflow(by: ref.storage.type.size)
            guard !overflow, raw.count == bytesNeeded else {
                throw WeightFileError.badTensor(path: path, tensor: name,
                                                detail: "storage \(ref.storage.key) holds \(raw.count) bytes, not \(ref.storage.count) x \(ref.storage.type.size)")
            }
            let tensor = try materialize(storage: raw, type: ref.storage.type, storageCount: ref.storage.count,
                                         offset: ref.offset, shape: ref.shape, strides: ref.strides, path: path, tensor: name)
            budget -= tensor.count
            guard budget >= 0 else {
                throw WeightFileError.badTensor(path: path, tensor: name, detail: "the views expand to far more than the stored data")
            }
            result[name] = tensor
        }
        return result
    }

    /// The legacy stream: pickled magic number, protocol version and system info, the pickled state dict, the
    /// pickled list of storage keys, then each storage as an element count (int64) and its raw elements.
    static func decodeLegacy(_ bytes: UnsafeRawBufferPointer, path: String) throws -> TensorDictionary {
        let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]  // 0x1950a86a20f9469cfc6c
        let (isMagic, afterMagic) = try PickleMachine.unpickle(bytes, at: 0, path: path) { v -> Bool in
            if case .bigInt(let raw) = v { return raw == magic }
            return false
        }
        guard isMagic else {
            throw WeightFileError.corrupt(path: path, field: "magic number", detail: "not a torch file")
        }
        let (protocolVersion, afterProtocol) = try PickleMachine.unpickle(bytes, at: afterMagic, path: path) { v -> Int in
            if case .int(let i) = v { return i }
            return -1
        }
        guard protocolVersion == 1001 else {
            throw WeightFileError.unsupported(path: path, field: "protocol version", detail: "\(protocolVersion), expected 1001")
        }
        let (littleEndian, afterInfo) = try PickleMachine.unpickle(bytes, at: afterProtocol, path: path) { v -> Bool in
            guard case .dict(let info) = v, let i = info.keys.firstIndex(of: .string("little_endian")) else { return true }
            if case .bool(false) = info.values[i] { return false }
            return true
        }
        guard littleEndian else {
            throw WeightFileError.unsupported(path: path, field: "system info", detail: "saved on a big-endian machine")
        }
        let (refs, afterObject) = try tensorRefs(bytes, at: afterInfo, path: path)
        let (keys, afterKeys) = try PickleMachine.unpickle(bytes, at: afterObject, path: path) { v -> [String] in
            guard case .list(let list) = v else {
                throw WeightFileError.corrupt(path: path, field: "storage keys", detail: "a \(v.kind), not a list")
            }
            return try list.items.map { item in
                guard case .string(let key) = item else {
                    throw WeightFileError.corrupt(path: path, field: "storage keys", detail: "a \(item.kind) key")
                }
                return key
            }
        }
        var declared: [String: StorageRef] = [:]
        for (_, ref) in refs { declared[ref.storage.key] = ref.storage }
        var cursor = ByteCursor(bytes, offset: afterKeys, path: path)
        var storages: [String: UnsafeRawBufferPointer] = [:]
        for key in keys {
            let field = "storage \(key)"
            let count = try cursor.u64(field)
            guard let storage = declared[key] else {
                throw WeightFileError.corrupt(path: path, field: field, detail: "not used by any tensor")
            }
            guard count == UInt64(storage.count) else {
                throw WeightFileError.corrupt(path: path, field: field, detail: "\(count) elements stored, \(storage.count) declared")
            }
            let (byteCount, overflow) = storage.count.multipliedReportingOverflow(by: storage.type.size)
            guard !overflow else { throw WeightFileError.corrupt(path: path, field: field, detail: "absurd size") }
            let range = try cursor.take(byteCount, field)
            storages[key] = UnsafeRawBufferPointer(rebasing: bytes[range])
        }
        return try assemble(refs, storages: storages, path: path)
    }
}
