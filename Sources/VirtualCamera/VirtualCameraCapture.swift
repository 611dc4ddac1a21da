import Foundation
import Imaging

/// Exposing and storing frames.
extension VirtualCamera {
    // MARK: - Capture

    func initiateCapture() -> Reply {
        lock.lock()
        if busyReplies > 0 {
            busyReplies -= 1
            lock.unlock()
            return .code(PTPResponse.deviceBusy)
        }
        if dropOnNextCapture {
            dropOnNextCapture = false
            lock.unlock()
            return .drop
        }
        if capturing {
            lock.unlock()
            return .code(PTPResponse.deviceBusy)
        }
        let used = cardBytes
        if used + UInt64(configuration.width * configuration.height * 2) > configuration.storageCapacity {
            lock.unlock()
            return .code(PTPResponse.storeFull)
        }
        lock.unlock()
        let triggered = Date()
        return .answer(PTPResponse.ok, [], nil, { [self] in _ = beginCapture(external: false, triggered: triggered) })
    }

    func beginCapture(external: Bool, triggered: Date = Date()) -> Bool {
        lock.lock()
        if capturing || stopped {
            lock.unlock()
            return false
        }
        capturing = true
        let shotSettings = settings
        fileCounter += 1
        let number = fileCounter
        lock.unlock()
        spawnWorker("capture") { [self] in
            expose(settings: shotSettings, number: number, triggered: triggered, external: external)
        }
        return true
    }

    func expose(settings shot: ExposureSettings, number: Int, triggered: Date, external: Bool) {
        // The shutter is open for the exposure time (capped, so a long exposure does not stall tests).
        Thread.sleep(forTimeInterval: min(shot.exposureTime, 1))
        lock.lock()
        let captureDate = Date().addingTimeInterval(dateOffset)
        let toRAM = configuration.vendor == .canon && eos.captureDestination == CanonEOS.destinationHost
        let withJPEG = configuration.vendor == .canon && eos.rawPlusJPEG && configuration.format == .dng
        lock.unlock()
        let vendor = configuration.vendor
        let metadata = CaptureMetadata(make: vendor == .generic ? configuration.manufacturer : vendor.identity.make,
                                       model: vendor == .generic ? "\(configuration.model) \(configuration.name)" : vendor.identity.fileModel,
                                       serialNumber: configuration.serialNumber, aperture: shot.fNumber,
                                       exposureTime: shot.exposureTime, iso: shot.iso,
                                       focalLength: configuration.character.focalLength, captureTime: captureDate)
        let stem = vendor == .nikon ? String(format: "DSC_%04d", number % 10000) : String(format: "IMG_%04d", number % 10000)
        var files: [(name: String, format: UInt16, bytes: [UInt8])] = []
        if configuration.format == .dng {
            let frame = renderer.renderBayer(scene, settings: shot, shot: UInt64(number))
            files.append((stem + ".DNG", PTPFormat.dng, [UInt8](DNGWriter.encode(frame, metadata: metadata))))
        }
        if configuration.format == .jpeg || withJPEG {
            let linear = renderer.renderLinear(scene, settings: shot).displayEncoded()
            let bytes = (try? JPEGFile.encode(linear.raster8(), quality: 92)).map { [UInt8]($0) } ?? []
            files.append((stem + ".JPG", PTPFormat.jpeg, bytes))
        }
        lock.lock()
        var handles: [UInt32] = []
        for file in files {
            let handle = nextHandle
            nextHandle += 1
            objects[handle] = StoredObject(handle: handle, parent: toRAM ? 0 : Self.folderHandle, format: file.format,
                                           name: file.name, data: file.bytes, captureDate: captureDate,
                                           width: configuration.width, height: configuration.height, inRAM: toRAM)
            handles.append(handle)
        }
        let quiet = suppressObjectAdded
        log.append(VirtualCaptureRecord(triggered: triggered, stored: Date(), fileName: files.map(\.name).joined(separator: "+"),
                                        settings: shot, external: external))
        capturing = false
        lock.unlock()
        announce(handles, quiet: quiet)
    }

    /// Tells the host about a shot's files the way the body's vendor does.
    func announce(_ handles: [UInt32], quiet: Bool) {
        if configuration.vendor == .canon {
            queueEOSObjects(handles, quiet: quiet)
            return
        }
        // ObjectAdded must come before CaptureComplete: libgphoto2 gives up on ObjectAdded soon after it.
        if !quiet { for h in handles { sendEvent(PTPEvent.objectAdded, [h]) } }
        sendEvent(PTPEvent.captureComplete, [])
    }
}
