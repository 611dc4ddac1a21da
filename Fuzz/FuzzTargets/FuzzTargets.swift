// libFuzzer entry point for rigctl's parsers of untrusted bytes. Built only by `script/fuzz` (with
// -sanitize=fuzzer,address under .build-fuzz); the target is chosen by RIGCTL_FUZZ_TARGET. Every parser must
// return or throw for any input: a crash, a trap, a leak report or a sanitizer finding is a bug.
import Foundation
import Imaging
@testable import NeuralCore
import Rig

/// The parser under test, read once.
let target = ProcessInfo.processInfo.environment["RIGCTL_FUZZ_TARGET"] ?? ""

/// Small limits keep one input's work bounded, so the fuzzer explores instead of allocating.
let maxPixels = 4_000_000

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
        data.withUnsafeBytes { bytes in
            guard let archive = try? ZipArchive(bytes, path: "fuzz.zip") else { return }
            for entry in archive.entries.values { _ = try? archive.contents(of: entry, in: bytes) }
        }
    case "pickle":
        _ = try? NumpyPickle.decode(data, path: "fuzz.pkl")
    case "numpy":
        _ = try? NPYFile.decode(data, path: "fuzz.npy")
    case "rigfile":
        _ = try? RigFile.parse(data, path: "fuzz.rig.json")
    default:
        FileHandle.standardError.write(Data("set RIGCTL_FUZZ_TARGET to png, jpeg, dng, safetensors, torch, zip, pickle, numpy or rigfile\n".utf8))
        exit(2)
    }
    return 0
}
