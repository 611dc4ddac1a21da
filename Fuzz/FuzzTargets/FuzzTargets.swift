// libFuzzer entry point for rigctl's parsers of untrusted bytes. Built only by `script/fuzz` (with
// -sanitize=fuzzer,address under .build-fuzz); the target is chosen by RIGCTL_FUZZ_TARGET. Every parser must
// return or throw for any input: a crash, a trap, a leak report or a sanitizer finding is a bug.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Imaging
import NeuralCore
import Review
import Rig
import VirtualCamera

/// The parser under test, read once.
let target = ProcessInfo.processInfo.environment["RIGCTL_FUZZ_TARGET"] ?? ""

/// Small limits keep one input's work bounded, so the fuzzer explores instead of allocating.
let maxPixels = 4_000_000

/// One virtual camera per personality for the PTP/IP target, stopped so that no capture (rendering) starts:
/// the parser is under test. Created on first use.
let ptpipCameras: [VirtualCamera] = VirtualVendor.allCases.map { vendor in
    var configuration = VirtualCameraConfiguration(name: "fuzz", serialNumber: "FUZZ-\(vendor)", vendor: vendor,
                                                   width: 16, height: 16)
    configuration.storageCapacity = 1 << 20
    guard let camera = try? VirtualCamera(configuration: configuration, scene: Scene.builtIn(.planes, width: 16, height: 16)) else {
        FileHandle.standardError.write(Data("cannot create the virtual camera for the ptpip target\n".utf8))
        exit(1)
    }
    camera.stop()
    return camera
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    switch target {
    case "png":
        if let raster = try? PNGFile.decode(data, path: "fuzz.png", maxPixels: maxPixels) { _ = raster.rgbImage().raster8() }
    case "jpeg":
        if let raster = try? JPEGFile.decode(data, path: "fuzz.jpg", maxPixels: maxPixels) { _ = RGBImage(raster: raster) }
    case "dng":
        _ = try? RawDecoder(demosaic: .bilinear).decode(data, path: "fuzz.dng")
    case "safetensors":
        _ = try? SafeTensors.decode(data, path: "fuzz.safetensors")
        _ = try? SafeTensors.decodeMetadata(data, path: "fuzz.safetensors")
    case "torch":
        _ = try? TorchCheckpoint.decode(data, path: "fuzz.pth")
    case "zip":
        // The zip container of torch >= 1.6 files (ZipArchive, reached through TorchCheckpoint) from zip seeds.
        _ = try? TorchCheckpoint.decode(data, path: "fuzz.zip")
    case "pickle":
        _ = try? NumpyPickle.decode(data, path: "fuzz.pkl")
    case "numpy":
        _ = try? NPYFile.decode(data, path: "fuzz.npy")
    case "rigfile":
        _ = try? RigFile.parse(data, path: "fuzz.rig.json")
    case "ptpip":
        // The first byte picks the personality (generic, Canon EOS, Nikon); the rest is what a host sends on the
        // command channel after the handshake: packets, operation requests, data phases.
        guard let first = data.first else { break }
        let camera = ptpipCameras[Int(first) % ptpipCameras.count]
        _ = camera.replay(commandChannel: [UInt8](data.dropFirst()))
    case "triggerbox":
        // What a trigger box (or a device mistaken for one) prints: every line to the reply reader.
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            _ = try? TriggerBoxReply(line: String(decoding: line, as: UTF8.self))
        }
    case "review":
        // A request's parts separated by NUL bytes (see RequestParsing.exercise).
        _ = RequestParsing.exercise(data)
    default:
        FileHandle.standardError.write(Data("set RIGCTL_FUZZ_TARGET to png, jpeg, dng, safetensors, torch, zip, pickle, numpy, rigfile, ptpip, review or triggerbox\n".utf8))
        exit(2)
    }
    return 0
}

/// libFuzzer's driver, found at run time (the package's executables get their entry point renamed, so libFuzzer's
/// own `main` cannot be used; `LLVMFuzzerRunDriver` is its documented way in).
typealias FuzzerDriver = @convention(c) (UnsafeMutablePointer<Int32>,
                                         UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                         @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("FuzzTargets_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "LLVMFuzzerRunDriver") else {
        FileHandle.standardError.write(Data("libFuzzer is not linked in: build with script/fuzz\n".utf8))
        return 1
    }
    let driver = unsafeBitCast(symbol, to: FuzzerDriver.self)
    var count = argc
    var arguments = argv
    return driver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
