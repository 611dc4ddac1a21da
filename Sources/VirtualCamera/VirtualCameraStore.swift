import Foundation
import Imaging

/// The card: a DCIM folder, one image folder and the captured files.
extension VirtualCamera {
    struct StoredObject {
        var handle: UInt32
        var parent: UInt32
        var format: UInt16
        var name: String
        var data: [UInt8]
        var captureDate: Date
        var width: Int
        var height: Int
        /// Held in the camera's RAM until the host confirms the transfer (Canon EOS capture to the host): not on
        /// the card, so not listed and not counted against its capacity.
        var inRAM = false
    }

    func storageInfo() -> [UInt8] {
        let used = state.withLock { s in
            s.storageInfoReads += 1
            return s.cardBytes
        }
        let free = configuration.storageCapacity > used ? configuration.storageCapacity - used : 0
        let frameBytes = UInt64(configuration.width * configuration.height * 2 + 4096)
        var w = PTPWriter()
        w.u16(4)  // removable RAM (a memory card)
        w.u16(2)  // generic hierarchical
        w.u16(0)  // read-write
        w.u64(configuration.storageCapacity)
        w.u64(free)
        w.u32(UInt32(min(free / frameBytes, UInt64(UInt32.max - 1))))
        w.string("Virtual card")
        w.string("RIGCTL_\(configuration.name.uppercased())")
        return w.bytes
    }

    func objectHandles(storage: UInt32, format: UInt32, parent: UInt32) -> Reply {
        guard storage == 0xFFFF_FFFF || storage == Self.storageID else { return .code(PTPResponse.invalidStorageID) }
        let all = state.withLock { s in s.objects.values.filter { !$0.inRAM }.sorted { $0.handle < $1.handle } }
        let selected: [StoredObject]
        switch parent {
        case 0: selected = all
        case 0xFFFF_FFFF: selected = all.filter { $0.parent == 0 }
        default:
            guard all.contains(where: { $0.handle == parent && $0.format == PTPFormat.association }) else {
                return .code(PTPResponse.invalidObjectHandle)
            }
            selected = all.filter { $0.parent == parent }
        }
        var w = PTPWriter()
        w.array32(selected.filter { format == 0 || UInt32($0.format) == format }.map(\.handle))
        return .data(w.bytes)
    }

    static func ptpDate(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d%02d%02dT%02d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    func objectInfo(_ handle: UInt32) -> [UInt8]? {
        let object = state.withLock { s in s.objects[handle] }
        guard let object else { return nil }
        let isFolder = object.format == PTPFormat.association
        var w = PTPWriter()
        w.u32(Self.storageID)
        w.u16(object.format)
        w.u16(0)  // no protection
        w.u32(UInt32(object.data.count))
        w.u16(0)  // no thumbnail
        w.u32(0)
        w.u32(0)
        w.u32(0)
        w.u32(UInt32(object.width))
        w.u32(UInt32(object.height))
        w.u32(isFolder ? 0 : 16)
        w.u32(object.parent)
        w.u16(isFolder ? 1 : 0)  // generic folder
        w.u32(0)
        w.u32(0)
        w.string(object.name)
        w.string(Self.ptpDate(object.captureDate))
        w.string(Self.ptpDate(object.captureDate))
        w.string("")
        return w.bytes
    }

    func deleteObject(_ handle: UInt32) -> Reply {
        state.withLock { s in
            if handle == 0xFFFF_FFFF {
                s.objects = s.objects.filter { $0.value.format == PTPFormat.association }
                return .code(PTPResponse.ok)
            }
            guard let object = s.objects[handle] else { return .code(PTPResponse.invalidObjectHandle) }
            guard object.format != PTPFormat.association else { return .code(PTPResponse.accessDenied) }
            s.objects[handle] = nil
            return .code(PTPResponse.ok)
        }
    }

}
