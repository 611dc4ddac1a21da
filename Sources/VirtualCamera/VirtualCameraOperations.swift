import Foundation
import Imaging

/// The standard PTP operations and their dispatch; vendor personalities answer their own operations first.
extension VirtualCamera {
    // MARK: - Operations

    enum Reply {
        case answer(UInt16, [UInt32], [UInt8]?, (() -> Void)?)
        case drop

        static func code(_ c: UInt16) -> Reply { .answer(c, [], nil, nil) }
        static func data(_ d: [UInt8]) -> Reply { .answer(PTPResponse.ok, [], d, nil) }
    }

    func handle(code: UInt16, params: [UInt32], data: [UInt8]?) -> Reply {
        func param(_ i: Int) -> UInt32 { i < params.count ? params[i] : 0 }
        if code == PTPOperation.getDeviceInfo { return .data(deviceInfo()) }
        if code == PTPOperation.openSession {
            state.withLock { s in s.sessionOpen = true }
            return .code(PTPResponse.ok)
        }
        let open = state.withLock { s in s.sessionOpen }
        guard open else { return .code(PTPResponse.sessionNotOpen) }
        switch configuration.vendor {
        case .generic: break
        case .canon: if let reply = handleEOS(code: code, params: params, data: data) { return reply }
        case .nikon: if let reply = handleNikon(code: code, params: params, data: data) { return reply }
        }

        switch code {
        case PTPOperation.closeSession:
            state.withLock { s in s.sessionOpen = false }
            return .code(PTPResponse.ok)
        case PTPOperation.getStorageIDs:
            var w = PTPWriter()
            w.array32([Self.storageID])
            return .data(w.bytes)
        case PTPOperation.getStorageInfo:
            guard param(0) == Self.storageID else { return .code(PTPResponse.invalidStorageID) }
            return .data(storageInfo())
        case PTPOperation.getObjectHandles:
            return objectHandles(storage: param(0), format: param(1), parent: param(2))
        case PTPOperation.getObjectInfo:
            guard let info = objectInfo(param(0)) else { return .code(PTPResponse.invalidObjectHandle) }
            return .data(info)
        case PTPOperation.getObject:
            let object = state.withLock { s in s.objects[param(0)] }
            guard let object, object.format != PTPFormat.association else { return .code(PTPResponse.invalidObjectHandle) }
            return .data(object.data)
        case PTPOperation.getPartialObject where configuration.supportsPartialObject:
            let object = state.withLock { s in s.objects[param(0)] }
            guard let object, object.format != PTPFormat.association else { return .code(PTPResponse.invalidObjectHandle) }
            let start = min(Int(param(1)), object.data.count)
            let end = min(start + Int(param(2)), object.data.count)
            return .answer(PTPResponse.ok, [UInt32(end - start)], Array(object.data[start..<end]), nil)
        case PTPOperation.deleteObject:
            return deleteObject(param(0))
        case PTPOperation.initiateCapture:
            return initiateCapture()
        case PTPOperation.getDevicePropDesc:
            guard let desc = propertyDescription(UInt16(truncatingIfNeeded: param(0))) else {
                return .code(PTPResponse.devicePropNotSupported)
            }
            return .data(desc)
        case PTPOperation.getDevicePropValue:
            guard let property = property(UInt16(truncatingIfNeeded: param(0))) else {
                return .code(PTPResponse.devicePropNotSupported)
            }
            var w = PTPWriter()
            property.write(property.current, &w)
            return .data(w.bytes)
        case PTPOperation.setDevicePropValue:
            let code = UInt16(truncatingIfNeeded: param(0))
            let response = setProperty(code, data ?? [])
            if response == PTPResponse.ok {
                return .answer(PTPResponse.ok, [], nil, { [self] in sendEvent(PTPEvent.devicePropChanged, [UInt32(code)]) })
            }
            return .code(response)
        default:
            return .code(PTPResponse.operationNotSupported)
        }
    }

    func deviceInfo() -> [UInt8] {
        var w = PTPWriter()
        let vendor = configuration.vendor
        w.u16(100)
        w.u32(vendor.vendorExtensionID)  // libgphoto2 picks its vendor code from this (0: generic)
        w.u16(vendor == .generic ? 0 : 100)
        w.string("")
        w.u16(0)
        var operations = PTPOperation.supported
        if configuration.supportsPartialObject || vendor == .canon { operations.append(PTPOperation.getPartialObject) }
        switch vendor {
        case .generic: break
        case .canon: operations += CanonEOS.operations
        case .nikon: operations += Nikon.operations + (configuration.offersNikonGetEvent ? [Nikon.getEvent] : [])
        }
        w.array16(operations)
        w.array16(vendor == .canon ? [] : PTPEvent.supported)
        // An EOS body announces its properties through GetEvent, not in the device info.
        switch vendor {
        case .generic: w.array16(Self.propertyCodes)
        case .canon: w.array16([])
        // A Nikon body has no host-settable focus distance (its lenses focus through AF/MF drive only).
        case .nikon: w.array16(Self.propertyCodes.filter { $0 != Self.focusDistance } + Nikon.propertyCodes)
        }
        w.array16([configuration.format == .dng ? PTPFormat.dng : PTPFormat.jpeg])
        w.array16([PTPFormat.association, PTPFormat.dng, PTPFormat.jpeg])
        w.string(configuration.manufacturer)
        w.string(configuration.model)
        w.string("1.0")
        w.string(configuration.serialNumber)
        return w.bytes
    }

}
