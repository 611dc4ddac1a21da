/// A restricted pickle reader: a stack machine that understands only the opcodes that torch.save state dicts and
/// pickled numpy arrays use, and only a whitelist of globals, each of which it interprets itself. Nothing a file
/// names is ever called, imported or executed; anything else is refused with an error naming the opcode or global.

/// The callables and classes a weight pickle may name.
enum PickleGlobal: Equatable, CustomStringConvertible {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case storageType(ElementType)
    case numpyReconstruct
    case numpyNDArray
    case numpyDType

    static func resolve(module: String, name: String) -> PickleGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch", "FloatStorage"): return .storageType(.float32)
        case ("torch", "DoubleStorage"): return .storageType(.float64)
        case ("torch", "HalfStorage"): return .storageType(.float16)
        case ("torch", "BFloat16Storage"): return .storageType(.bfloat16)
        case ("torch", "LongStorage"): return .storageType(.int64)
        case ("torch", "IntStorage"): return .storageType(.int32)
        case ("torch", "ShortStorage"): return .storageType(.int16)
        case ("torch", "CharStorage"): return .storageType(.int8)
        case ("torch", "ByteStorage"): return .storageType(.uint8)
        case ("torch", "BoolStorage"): return .storageType(.bool)
        case ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"): return .numpyReconstruct
        case ("numpy", "ndarray"): return .numpyNDArray
        case ("numpy", "dtype"): return .numpyDType
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .orderedDict: "collections.OrderedDict"
        case .rebuildTensorV2: "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: "torch._utils._rebuild_parameter"
        case .storageType(let t): "torch storage of \(t)"
        case .numpyReconstruct: "numpy.core.multiarray._reconstruct"
        case .numpyNDArray: "numpy.ndarray"
        case .numpyDType: "numpy.dtype"
        }
    }
}

/// A torch storage named by a persistent id; its bytes live outside the pickle.
struct StorageRef {
    let key: String
    let type: ElementType
    let count: Int
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage.
struct TensorRef {
    let storage: StorageRef
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}

/// Mutable pickle objects are reference types, as in Python, so that memo entries see later mutation. The machine
/// keeps every one it makes and empties them all when it is done: that breaks cycles a file may build and keeps
/// deallocation shallow however deeply a hostile file nests them.
protocol PickleContainer: AnyObject {
    func clear()
}

final class PickleList: PickleContainer {
    var items: [PickleValue] = []
    func clear() { items = [] }
}

enum PickleKey: Hashable {
    case string(String)
    case int(Int)
}

final class PickleDict: PickleContainer {
    private(set) var keys: [PickleKey] = []
    private(set) var values: [PickleValue] = []
    private var index: [PickleKey: Int] = [:]

    func set(_ key: PickleKey, _ value: PickleValue) {
        if let i = index[key] {
            values[i] = value
        } else {
            index[key] = keys.count
            keys.append(key)
            values.append(value)
        }
    }

    func clear() {
        keys = []
        values = []
        index = [:]
    }
}

/// A numpy array being rebuilt: `_reconstruct` makes it empty, BUILD fills it in.
final class NumpyArray: PickleContainer {
    var shape: [Int] = []
    var type: ElementType?
    var fortranOrder = false
    var data: Range<Int>?
    func clear() {}
}

final class NumpyDType: PickleContainer {
    let type: ElementType
    var bigEndian = false
    init(type: ElementType) { self.type = type }
    func clear() {}
}

enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// A LONG1 integer too wide for Int, as little-endian two's complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    /// Bytes of the pickle buffer.
    case bytes(Range<Int>)
    case tuple([PickleValue], depth: Int)
    case list(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(StorageRef)
    case tensor(TensorRef)
    case array(NumpyArray)
    case dtype(NumpyDType)

    var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(let g): "\(g)"
        case .storage: "storage"
        case .tensor: "tensor"
        case .array: "numpy array"
        case .dtype: "numpy dtype"
        }
    }

    var tupleDepth: Int {
        if case .tuple(_, let depth) = self { return depth }
        return 0
    }
}

/// Runs one pickle from `start` to its STOP opcode.
struct PickleMachine {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private var position: Int
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var containers: [PickleContainer] = []

    static let maxTupleDepth = 100

    private init(bytes: UnsafeRawBufferPointer, start: Int, path: String) {
        self.bytes = bytes
        self.position = start
        self.path = path
    }

    /// Unpickles the object at `start`, hands it to `extract` while its containers are alive, and returns what
    /// `extract` made of it and the offset after the STOP opcode.
    static func unpickle<T>(_ bytes: UnsafeRawBufferPointer, at start: Int, path: String,
                            extract: (PickleValue) throws -> T) throws -> (T, end: Int) {
        var machine = PickleMachine(bytes: bytes, start: start, path: path)
        defer { machine.tearDown() }
        let value = try machine.run()
        return (try extract(value), machine.position)
    }

    private mutating func tearDown() {
        for container in containers { container.clear() }
        stack = []
        memo = [:]
        containers = []
    }

    private func corrupt(_ detail: String, at offset: Int) -> WeightFileError {
        .corrupt(path: path, field: "pickle at offset \(offset)", detail: detail)
    }

    private func forbidden(_ detail: String, at offset: Int) -> WeightFileError {
        .forbidden(path: path, detail: "\(detail) (pickle offset \(offset))")
    }

    // MARK: reading arguments

    private mutating func byte(_ at: Int) throws -> UInt8 {
        guard position < bytes.count else { throw corrupt("the pickle ends without STOP", at: at) }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func uint(_ n: Int, _ at: Int) throws -> UInt64 {
        guard n <= bytes.count - position else { throw corrupt("the pickle ends inside an opcode", at: at) }
        defer { position += n }
        return loadLE(bytes, position, n)
    }

    private mutating func take(_ n: UInt64, _ at: Int) throws -> Range<Int> {
        guard n <= UInt64(bytes.count - position) else {
            throw corrupt("a \(n)-byte argument runs past the end of the file", at: at)
        }
        defer { position += Int(n) }
        return position..<(position + Int(n))
    }

    private func text(_ range: Range<Int>, at: Int) throws -> String {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard let s = String(validating: slice, as: UTF8.self) else { throw corrupt("invalid UTF-8 in a string", at: at) }
        return s
    }

    private mutating func line(_ at: Int) throws -> String {
        var end = position
        while end < bytes.count, bytes[end] != 0x0A {
            end += 1
            guard end - position <= 256 else { throw corrupt("a GLOBAL name longer than 256 bytes", at: at) }
        }
        guard end < bytes.count else { throw corrupt("the pickle ends inside a GLOBAL", at: at) }
        let s = try text(position..<end, at: at)
        position = end + 1
        return s
    }

    // MARK: stack

    private mutating func pop(_ at: Int) throws -> PickleValue {
        guard let v = stack.popLast(), stack.count >= (marks.last ?? 0) else {
            throw corrupt("stack underflow", at: at)
        }
        return v
    }

    private mutating func popToMark(_ at: Int) throws -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw corrupt("no MARK on the stack", at: at) }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func top(_ at: Int) throws -> PickleValue {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw corrupt("stack underflow", at: at) }
        return v
    }

    private func tuple(_ items: [PickleValue], _ at: Int) throws -> PickleValue {
        let depth = 1 + (items.map(\.tupleDepth).max() ?? 0)
        guard depth <= Self.maxTupleDepth else { throw corrupt("tuples nested more than \(Self.maxTupleDepth) deep", at: at) }
        return .tuple(items, depth: depth)
    }

    private mutating func track<C: PickleContainer>(_ c: C) -> C {
        containers.append(c)
        return c
    }

    private func key(_ v: PickleValue, _ at: Int) throws -> PickleKey {
        switch v {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .bool(let b): return .int(b ? 1 : 0)
        default: throw forbidden("a dict key of type \(v.kind)", at: at)
        }
    }

    private func setItems(_ target: PickleValue, _ items: ArraySlice<PickleValue>, _ at: Int) throws {
        guard case .dict(let dict) = target else { throw forbidden("SETITEM(S) on a \(target.kind)", at: at) }
        guard items.count % 2 == 0 else { throw corrupt("SETITEMS with an odd number of items", at: at) }
        var i = items.startIndex
        while i < items.endIndex {
            dict.set(try key(items[i], at), items[i + 1])
            i += 2
        }
    }

    // MARK: the machine

    private mutating func run() throws -> PickleValue {
        while true {
            let at = position
            guard stack.count <= 1_000_000, memo.count <= 10_000_000 else {
                throw corrupt("more objects than any weight file holds", at: at)
            }
            let op = try byte(at)
            switch op {
            case 0x80:  // PROTO
                let version = try byte(at)
                guard version <= 5 else { throw corrupt("pickle protocol \(version)", at: at) }
            case 0x95:  // FRAME
                _ = try uint(8, at)
            case 0x2E:  // STOP
                let value = try pop(at)
                return value
            case 0x28:  // MARK
                marks.append(stack.count)
            case 0x30:  // POP
                _ = try pop(at)
            case 0x31:  // POP_MARK
                _ = try popToMark(at)
            case 0x7D:  // EMPTY_DICT
                stack.append(.dict(track(PickleDict())))
            case 0x64:  // DICT
                let items = try popToMark(at)
                let dict = PickleValue.dict(track(PickleDict()))
                try setItems(dict, items[...], at)
                stack.append(dict)
            case 0x5D:  // EMPTY_LIST
                stack.append(.list(track(PickleList())))
            case 0x6C:  // LIST
                let items = try popToMark(at)
                let list = track(PickleList())
                list.items = items
                stack.append(.list(list))
            case 0x29:  // EMPTY_TUPLE
                stack.append(.tuple([], depth: 1))
            case 0x74:  // TUPLE
                let items = try popToMark(at)
                stack.append(try tuple(items, at))
            case 0x85, 0x86, 0x87:  // TUPLE1..3
                let n = Int(op - 0x84)
                var items: [PickleValue] = []
                for _ in 0..<n { items.append(try pop(at)) }
                stack.append(try tuple(items.reversed(), at))
            case 0x61:  // APPEND
                let value = try pop(at)
                guard case .list(let list) = try top(at) else { throw forbidden("APPEND to a \(try top(at).kind)", at: at) }
                list.items.append(value)
            case 0x65:  // APPENDS
                let items = try popToMark(at)
                guard case .list(let list) = try top(at) else { throw forbidden("APPENDS to a \(try top(at).kind)", at: at) }
                list.items.append(contentsOf: items)
            case 0x73:  // SETITEM
                let value = try pop(at)
                let k = try pop(at)
                try setItems(try top(at), [k, value][...], at)
            case 0x75:  // SETITEMS
                let items = try popToMark(at)
                try setItems(try top(at), items[...], at)
            case 0x71:  // BINPUT
                memo[Int(try byte(at))] = try top(at)
            case 0x72:  // LONG_BINPUT
                memo[Int(try uint(4, at))] = try top(at)
            case 0x94:  // MEMOIZE
                memo[memo.count] = try top(at)
            case 0x68, 0x6A:  // BINGET, LONG_BINGET
                let index = op == 0x68 ? Int(try byte(at)) : Int(try uint(4, at))
                guard let v = memo[index] else { throw corrupt("memo entry \(index) is not set", at: at) }
                stack.append(v)
            case 0x4A:  // BININT
                stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4, at)))))
            case 0x4B:  // BININT1
                stack.append(.int(Int(try byte(at))))
            case 0x4D:  // BININT2
                stack.append(.int(Int(try uint(2, at))))
            case 0x8A:  // LONG1
                let n = Int(try byte(at))
                let range = try take(UInt64(n), at)
                let raw = Array(UnsafeRawBufferPointer(rebasing: bytes[range]))
                if n == 0 {
                    stack.append(.int(0))
                } else if n <= 8 {
                    var v: UInt64 = 0
                    for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
                    let shift = UInt64(64 - 8 * n)
                    stack.append(.int(Int(Int64(bitPattern: v << shift) >> shift)))
                } else {
                    stack.append(.bigInt(raw))
                }
            case 0x4E:  // NONE
                stack.append(.none)
            case 0x88:  // NEWTRUE
                stack.append(.bool(true))
            case 0x89:  // NEWFALSE
                stack.append(.bool(false))
            case 0x47:  // BINFLOAT (big-endian)
                let v = try uint(8, at)
                stack.append(.float(Double(bitPattern: v.byteSwapped)))
            case 0x58:  // BINUNICODE
                let range = try take(try uint(4, at), at)
                stack.append(.string(try text(range, at: at)))
            case 0x8C:  // SHORT_BINUNICODE
                let range = try take(UInt64(try byte(at)), at)
                stack.append(.string(try text(range, at: at)))
            case 0x55, 0x54:  // SHORT_BINSTRING, BINSTRING: Python 2 str, read as torch.load does (UTF-8, else Latin-1)
                let range = try take(op == 0x55 ? UInt64(try byte(at)) : try uint(4, at), at)
                let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
                stack.append(.string(String(validating: slice, as: UTF8.self)
                    ?? String(decoding: slice.map { UInt16($0) }, as: UTF16.self)))
            case 0x43:  // SHORT_BINBYTES
                stack.append(.bytes(try take(UInt64(try byte(at)), at)))
            case 0x42:  // BINBYTES
                stack.append(.bytes(try take(try uint(4, at), at)))
            case 0x63:  // GLOBAL
                let module = try line(at)
                let name = try line(at)
                guard let g = PickleGlobal.resolve(module: module, name: name) else {
                    throw forbidden("global '\(module).\(name)' is not on the whitelist", at: at)
                }
                stack.append(.global(g))
            case 0x93:  // STACK_GLOBAL
                let nameValue = try pop(at)
                let moduleValue = try pop(at)
                guard case .string(let module) = moduleValue, case .string(let name) = nameValue else {
                    throw corrupt("STACK_GLOBAL needs two strings", at: at)
                }
                guard let g = PickleGlobal.resolve(module: module, name: name) else {
                    throw forbidden("global '\(module).\(name)' is not on the whitelist", at: at)
                }
                stack.append(.global(g))
            case 0x52:  // REDUCE
                let args = try pop(at)
                let callable = try pop(at)
                stack.append(try reduce(callable, args, at))
            case 0x62:  // BUILD
                let state = try pop(at)
                try build(try top(at), state, at)
            case 0x51:  // BINPERSID
                stack.append(try persistentLoad(try pop(at), at))
            default:
                let printable = (0x21...0x7E).contains(op) ? " '\(Character(UnicodeScalar(op)))'" : ""
                throw forbidden("opcode 0x\(String(op, radix: 16))\(printable) is not supported", at: at)
            }
        }
    }

    // MARK: interpreting the whitelisted globals

    private func int(_ v: PickleValue, _ what: String, _ at: Int) throws -> Int {
        guard case .int(let i) = v else { throw corrupt("\(what) should be an int, not \(v.kind)", at: at) }
        return i
    }

    private func ints(_ v: PickleValue, _ what: String, _ at: Int) throws -> [Int] {
        guard case .tuple(let items, _) = v else { throw corrupt("\(what) should be a tuple, not \(v.kind)", at: at) }
        guard items.count <= 64 else { throw corrupt("\(what) has \(items.count) dimensions", at: at) }
        return try items.map { try int($0, what, at) }
    }

    private mutating func reduce(_ callable: PickleValue, _ argsValue: PickleValue, _ at: Int) throws -> PickleValue {
        guard case .global(let g) = callable else { throw forbidden("calling a \(callable.kind)", at: at) }
        guard case .tuple(let args, _) = argsValue else { throw corrupt("arguments to \(g) are not a tuple", at: at) }
        switch g {
        case .orderedDict:
            let dict = PickleValue.dict(track(PickleDict()))
            if args.isEmpty { return dict }
            guard args.count == 1 else { throw corrupt("OrderedDict with \(args.count) arguments", at: at) }
            let pairs: [PickleValue]
            switch args[0] {
            case .list(let list): pairs = list.items
            case .tuple(let items, _): pairs = items
            default: throw forbidden("OrderedDict from a \(args[0].kind)", at: at)
            }
            for pair in pairs {
                let kv: [PickleValue]
                switch pair {
                case .list(let list): kv = list.items
                case .tuple(let items, _): kv = items
                default: throw corrupt("OrderedDict item is a \(pair.kind), not a pair", at: at)
                }
                guard kv.count == 2 else { throw corrupt("OrderedDict item of \(kv.count) values", at: at) }
                try setItems(dict, kv[...], at)
            }
            return dict
        case .rebuildTensorV2:
            guard args.count == 6 || args.count == 7 else { throw corrupt("_rebuild_tensor_v2 with \(args.count) arguments", at: at) }
            guard case .storage(let storage) = args[0] else { throw corrupt("_rebuild_tensor_v2 of a \(args[0].kind)", at: at) }
            return .tensor(TensorRef(storage: storage, offset: try int(args[1], "storage offset", at),
                                     shape: try ints(args[2], "tensor size", at), strides: try ints(args[3], "tensor stride", at)))
        case .rebuildParameter:
            guard args.count == 3, case .tensor = args[0] else { throw corrupt("_rebuild_parameter needs a tensor", at: at) }
            return args[0]
        case .numpyReconstruct:
            guard args.count == 3, case .global(.numpyNDArray) = args[0] else {
                throw forbidden("numpy _reconstruct of anything but numpy.ndarray", at: at)
            }
            return .array(track(NumpyArray()))
        case .numpyDType:
            guard args.count >= 1, case .string(let name) = args[0] else { throw corrupt("numpy.dtype without a type name", at: at) }
            let types: [String: ElementType] = ["f4": .float32, "f8": .float64, "f2": .float16, "i8": .int64, "i4": .int32,
                                                "i2": .int16, "i1": .int8, "u1": .uint8, "b1": .bool]
            guard let type = types[name] else {
                throw WeightFileError.unsupported(path: path, field: "numpy dtype", detail: "'\(name)'")
            }
            return .dtype(track(NumpyDType(type: type)))
        case .storageType, .numpyNDArray:
            throw forbidden("calling \(g)", at: at)
        }
    }

    private func build(_ target: PickleValue, _ state: PickleValue, _ at: Int) throws {
        switch target {
        case .dict:
            // An OrderedDict's attributes (torch keeps `_metadata` there): not needed for the tensors.
            guard case .dict = state else { throw forbidden("BUILD of a dict with a \(state.kind)", at: at) }
        case .dtype(let dtype):
            guard case .tuple(let items, _) = state, items.count >= 2, case .string(let order) = items[1] else {
                throw corrupt("numpy dtype state is not a tuple with a byte order", at: at)
            }
            guard order != ">" else {
                throw WeightFileError.unsupported(path: path, field: "numpy dtype", detail: "big-endian arrays")
            }
            dtype.bigEndian = false
        case .array(let array):
            guard case .tuple(var items, _) = state else { throw corrupt("numpy array state is a \(state.kind)", at: at) }
            if items.count == 5 { items.removeFirst() }
            guard items.count == 4 else { throw corrupt("numpy array state of \(items.count) values", at: at) }
            array.shape = try ints(items[0], "numpy array shape", at)
            guard case .dtype(let dtype) = items[1] else { throw corrupt("numpy array without a dtype", at: at) }
            array.type = dtype.type
            guard case .bool(let fortran) = items[2] else { throw corrupt("numpy array order flag is a \(items[2].kind)", at: at) }
            array.fortranOrder = fortran
            guard case .bytes(let range) = items[3] else {
                throw forbidden("numpy array data as a \(items[3].kind) (object arrays are refused)", at: at)
            }
            array.data = range
        default:
            throw forbidden("BUILD of a \(target.kind)", at: at)
        }
    }

    private func persistentLoad(_ pid: PickleValue, _ at: Int) throws -> PickleValue {
        guard case .tuple(let items, _) = pid, items.count == 5 || items.count == 6,
              case .string("storage") = items[0] else {
            throw forbidden("a persistent id that is not a torch storage", at: at)
        }
        guard case .global(.storageType(let type)) = items[1] else {
            throw forbidden("a storage of type \(items[1].kind)", at: at)
        }
        guard case .string(let key) = items[2] else { throw corrupt("storage key is a \(items[2].kind)", at: at) }
        let count = try int(items[4], "storage size", at)
        guard count >= 0 else { throw corrupt("negative storage size", at: at) }
        if items.count == 6, case .none = items[5] {} else if items.count == 6 {
            throw WeightFileError.unsupported(path: path, field: "storage \(key)", detail: "storage views of old torch versions")
        }
        return .storage(StorageRef(key: key, type: type, count: count))
    }
}

/// The leaves of nested dicts, keyed by their path joined with "." - how a state dict (flat) or a Flax-style
/// parameter tree (nested) names its arrays. Values that are neither dicts nor `isLeaf` are skipped.
func flattenDicts(_ root: PickleValue, path: String, isLeaf: (PickleValue) -> Bool) throws -> [(String, PickleValue)] {
    var out: [(String, PickleValue)] = []
    var seen = Set<String>()
    var visits = 0
    var onPath = Set<ObjectIdentifier>()
    func visit(_ v: PickleValue, _ prefix: String, _ depth: Int) throws {
        visits += 1
        guard visits <= 1_000_000, depth <= 32 else {
            throw WeightFileError.corrupt(path: path, field: "pickled object", detail: "nested too deeply or too many entries")
        }
        if case .dict(let dict) = v {
            let id = ObjectIdentifier(dict)
            guard !onPath.contains(id) else { return }
            onPath.insert(id)
            defer { onPath.remove(id) }
            for (k, value) in zip(dict.keys, dict.values) {
                let name: String
                switch k {
                case .string(let s): name = s
                case .int(let i): name = String(i)
                }
                try visit(value, prefix.isEmpty ? name : prefix + "." + name, depth + 1)
            }
        } else if isLeaf(v) {
            guard seen.insert(prefix).inserted else {
                throw WeightFileError.corrupt(path: path, field: "pickled object", detail: "two arrays named '\(prefix)'")
            }
            out.append((prefix, v))
        }
    }
    try visit(root, "", 0)
    return out
}
