import Foundation
import Imaging

/// Exposing and storing frames.
extension VirtualCamera {
    // MARK: - Capture

    func initiateCapture() -> Reply {
        let refusal = state.withLock { s in
            s.refusalOfShot(toCard: true, frameBytes: UInt64(configuration.width * configuration.height * 2),
                            capacity: configuration.storageCapacity)
        }
        if let refusal { return refusal }
        let triggered = Date()
        return .answer(PTPResponse.ok, [], nil, { [self] in _ = beginCapture(external: false, triggered: triggered) })
    }

    func beginCapture(external: Bool, triggered: Date = Date()) -> Bool {
        let shot: (settings: ExposureSettings, number: Int)? = state.withLock { s in
            if s.capturing || s.stopped { return nil }
            s.capturing = true
            s.fileCounter += 1
            return (s.settings, s.fileCounter)
        }
        guard let (shotSettings, number) = shot else { return false }
        spawnWorker("capture") { [self] in
            expose(settings: shotSettings, number: number, triggered: triggered, external: external)
        }
        return true
    }

    func expose(settings shot: ExposureSettings, number: Int, triggered: Date, external: Bool) {
        // The shutter is open for the exposure time (capped, so a long exposure does not stall tests).
        Thread.sleep(forTimeInterval: min(shot.exposureTime, 1))
        let (captureDate, toRAM, withJPEG) = state.withLock { s in
            (Date().addingTimeInterval(s.dateOffset),
             configuration.vendor == .canon && s.eos.captureDestination == CanonEOS.destinationHost,
             configuration.vendor == .canon && s.eos.rawPlusJPEG && configuration.format == .dng)
        }
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
        let (handles, quiet) = state.withLock { s in
            var handles: [UInt32] = []
            for file in files {
                let handle = s.nextHandle
                s.nextHandle += 1
                s.objects[handle] = StoredObject(handle: handle, parent: toRAM ? 0 : Self.folderHandle, format: file.format,
                                                 name: file.name, data: file.bytes, captureDate: captureDate,
                                                 width: configuration.width, height: configuration.height, inRAM: toRAM)
                handles.append(handle)
            }
            s.log.append(VirtualCaptureRecord(triggered: triggered, stored: Date(),
                                              fileName: files.map(\.name).joined(separator: "+"), settings: shot,
                                              external: external))
            s.capturing = false
            return (handles, s.suppressObjectAdded)
        }
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
