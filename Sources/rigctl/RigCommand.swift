import ArgumentParser
import Foundation
import LiveViewing
import Rig

struct RigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rig",
        abstract: "Work with a two-camera rig described by a rig file.",
        subcommands: [RigCheck.self, RigDetect.self, RigInit.self, RigLiveView.self]
    )
}

/// `--verbose FILE` on the rig commands: libgphoto2's debug log, for support requests.
struct DebugLogOption: ParsableArguments {
    @Option(name: .customLong("verbose"), help: "Write libgphoto2's debug log (every PTP exchange) to this file.")
    var verbose: String?

    /// Runs `body` with the log on, when asked.
    func around<T>(_ body: () throws -> T) throws -> T {
        guard let verbose else { return try body() }
        let log = try GPhotoDebugLog(path: verbose)
        defer { log.stop() }
        return try body()
    }
}

struct RigCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Pre-flight: connect to both cameras, read their state and judge the rig before the first pair.",
        discussion: """
            Reports per camera the vendor code libgphoto2 drives it with, battery, capture target, free space, focus \
            mode and the exposure settings; for the rig, how many pairs still fit and how the two roles' exposures \
            compare. With trigger "trigger-box" the box is set up when the rig connects (its shutter and focus \
            outputs, bulb time) and read back: name, mode, outputs and bulb time are reported, and a box that does \
            not answer or holds something else is an error. Autofocus, a low battery or unbalanced exposures are warnings; a full card, or with --apply a \
            setting the camera refuses or ignores, is an error (exit status 1). Nothing is changed on the cameras \
            unless --apply is given, which sets the rig file's settings and reads each back.
            """
    )

    @Option(help: "The rig file (JSON, see docs/rig.md).")
    var rig: String

    @Flag(help: "Apply the rig file's settings and read each back before judging.")
    var apply = false

    @Flag(help: "Print only the pre-flight, not libgphoto2's summary of each camera.")
    var brief = false

    @Flag(help: "Print the pre-flight as JSON.")
    var json = false

    @OptionGroup var debugLog: DebugLogOption

    func run() throws {
        try reportingErrors { try debugLog.around {
            let file = try RigFile.load(URL(fileURLWithPath: rig))
            let library = try GPhotoLibrary()
            let connected = try Rig(file: file, library: library)
            defer { connected.close() }
            let report = try connected.preflight(apply: apply)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print("rig \(file.name ?? rig): \(file.trigger.rawValue) trigger, libgphoto2 \(GPhotoLibrary.version)")
                for (camera, c) in zip(connected.cameras, report.cameras) {
                    print("")
                    print("\(camera.role) camera on \(camera.port)")
                    print("  \(c.manufacturer ?? "?") \(c.model ?? "?") (\(c.vendor) driver), serial \(c.serialNumber ?? "?"), battery \(c.battery ?? "?")")
                    print("  aperture \(c.aperture ?? "-")  shutter \(c.shutter ?? "-")  ISO \(c.iso ?? "-")  focus mode \(c.focusMode ?? "-")"
                          + "  exposure program \(c.exposureProgram ?? "-")  drive \(c.driveMode ?? "-")")
                    let space = c.capturesToHost ? "files go to the host" : [c.freeImages.map { "\($0) images free" },
                        c.freeBytes.map { String(format: "%.1f GB free", Double($0) / 1e9) }].compactMap { $0 }.joined(separator: ", ")
                    let size = c.bytesPerShot.map { String(format: ", latest shot %.1f MB", Double($0) / 1e6) } ?? ""
                    print("  capture target \(c.captureTarget ?? "card"), \(space), \(c.filesPerShot) file(s) per shot\(size)")
                    for a in c.applied {
                        print("  set \(a.setting) \(a.wanted): \(a.entry.isEmpty ? "(no entry)" : a.entry)=\"\(a.choice)\", read back \"\(a.readBack)\"")
                    }
                    if !brief {
                        print(try camera.summary().split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
                    }
                }
                print("")
                if let fit = report.fit {
                    print("pairs that fit: \(fit.pairs) (\(fit.role) camera, \(fit.basis.wording))")
                } else {
                    print(report.cameras.allSatisfy(\.capturesToHost) ? "pairs that fit: no limit (both capture to the host)"
                                                                      : "pairs that fit: unknown (no free-space figure)")
                }
                if let d = report.exposureDifferenceStops {
                    print(String(format: "exposure deep - shallow: %+.2f stops; same shutter: %@, same ISO: %@", d,
                                 report.sameShutter == true ? "yes" : "no", report.sameISO == true ? "yes" : "no"))
                }
                if let box = report.triggerBox {
                    func list(_ outputs: [Int]) -> String { outputs.isEmpty ? "none" : outputs.map(String.init).joined(separator: ",") }
                    let bulb = box.bulbMilliseconds == 0 ? "off (the cameras' shutter times)" : "\(box.bulbMilliseconds) ms"
                    let lead = file.triggerBox.map { $0.focusLead > 0 ? String(format: ", focus %.2f s before the shutter", $0.focusLead) : "" } ?? ""
                    print("trigger box on \(box.device): \"\(box.name)\", mode \(box.mode); shutter outputs \(list(box.shutterOutputs)), "
                          + "focus outputs \(list(box.focusOutputs)), bulb \(bulb)\(lead)")
                }
                for w in report.warnings { print("warning: \(w)") }
                for e in report.errors { print("error: \(e)") }
                print(report.ok ? "pre-flight: ready" : "pre-flight: NOT ready")
            }
            if !report.ok { throw ExitCode(1) }
        } }
    }
}

struct RigDetect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "List every camera libgphoto2 sees: port, driver, model, serial number, battery, exposure.",
        discussion: "USB cameras are detected; PTP/IP cameras never are (libgphoto2 finds them only by address): give their ports with --port."
    )

    @Option(name: .customLong("port"), help: "Also open this port (for example ptpip:192.168.1.10); repeatable.")
    var ports: [String] = []

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var debugLog: DebugLogOption

    func run() throws {
        try reportingErrors { try debugLog.around {
            let (cameras, failures) = try GPhotoLibrary().probe(ports: ports)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(cameras), as: UTF8.self))
            } else {
                if cameras.isEmpty { print("no cameras found") }
                for c in cameras {
                    print("\(c.port)  \(c.manufacturer ?? "?") \(c.model ?? "?")  driver \"\(c.driver)\"  serial \(c.serialNumber ?? "?")  "
                          + "battery \(c.battery ?? "?")  aperture \(c.aperture ?? "-")  shutter \(c.shutter ?? "-")  ISO \(c.iso ?? "-")")
                }
            }
            for f in failures { FileHandle.standardError.write(Data("rigctl: warning: \(f.port): \(f.reason)\n".utf8)) }
        } }
    }
}

struct RigInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a starter rig file from two connected cameras (ports, serials, drivers, current settings).",
        discussion: "Each role is given as a port or a serial number of a detected camera (see `rigctl rig detect`)."
    )

    @Option(help: "Port or serial number of the shallow depth-of-field camera.")
    var shallow: String

    @Option(help: "Port or serial number of the deep depth-of-field camera.")
    var deep: String

    @Option(name: .customLong("port"), help: "Also open this port (PTP/IP cameras are not detected); repeatable.")
    var ports: [String] = []

    @Option(name: [.short, .customLong("output")], help: "The rig file to write.")
    var output: String

    @Option(help: "Name of the rig in the file.")
    var name: String?

    @OptionGroup var debugLog: DebugLogOption

    func run() throws {
        try reportingErrors { try debugLog.around {
            let library = try GPhotoLibrary()
            let found = try library.probe(ports: ports + [shallow, deep].filter { $0.contains(":") })
            var file = try RigFile.starter(shallow: shallow, deep: deep, from: found.cameras, name: name)
            // The splitter's mirror, from the cameras' own live views: without it every pair is rejected.
            let mirrorNote: String
            do {
                let connected = try Rig(file: file, library: library)
                defer { connected.close() }
                let finding = try MirrorProbe().find(rig: connected)
                if let calibration = finding.calibration {
                    file.alignment = calibration
                    mirrorNote = "the live views register with \(finding.description): wrote alignment.mirror \(finding.mirror.rawValue)"
                        + (calibration.referenceHomography == nil ? ""
                           : " and the reference homography measured on them (scaled to the photographs when aligning)")
                } else {
                    mirrorNote = "could not tell the splitter's mirror from the live views (\(finding.description)); "
                        + "no alignment.mirror written: aim both cameras at a textured scene, focus, and run `rigctl rig liveview`"
                }
            } catch {
                mirrorNote = "no live view to find the splitter's mirror (\(error)); no alignment.mirror written: set it in the "
                    + "file (none, horizontal or vertical) before capturing"
            }
            try file.write(to: URL(fileURLWithPath: output))
            print("wrote \(output): shallow \(file.cameras[0].port ?? "?") (\(file.cameras[0].model ?? "?")), "
                  + "deep \(file.cameras[1].port ?? "?") (\(file.cameras[1].model ?? "?"))")
            print(mirrorNote)
        } }
    }
}
