import ArgumentParser
import Foundation
import Rig

struct RigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rig",
        abstract: "Work with a two-camera rig described by a rig file.",
        subcommands: [RigCheck.self]
    )
}

struct RigCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Connect to both cameras of a rig and print their summaries and settings.",
        discussion: "Nothing is changed on the cameras unless --apply is given, which sets the rig file's settings first."
    )

    @Option(help: "The rig file (JSON, see docs/rig.md).")
    var rig: String

    @Flag(help: "Apply the rig file's settings before reading them back.")
    var apply = false

    @Flag(help: "Print only the settings, not libgphoto2's summary of each camera.")
    var brief = false

    func run() throws {
        try reportingErrors {
            let file = try RigFile.load(URL(fileURLWithPath: rig))
            let library = try GPhotoLibrary()
            let connected = try Rig(file: file, library: library)
            defer { connected.close() }
            if apply { try connected.applySettings() }
            print("rig \(file.name ?? rig): \(file.trigger.rawValue) trigger, libgphoto2 \(GPhotoLibrary.version)")
            for camera in connected.cameras {
                let s = try camera.status()
                print("")
                print("\(camera.role) camera on \(camera.port)")
                print("  \(s.manufacturer ?? "?") \(s.model ?? "?"), serial \(s.serialNumber ?? "?"), battery \(s.battery ?? "?")")
                print("  aperture \(s.aperture ?? "-")  shutter \(s.shutter ?? "-")  ISO \(s.iso ?? "-")  focus \(s.focusDistance ?? "-")")
                let wanted = camera.spec.settings
                var planned: [String] = []
                if let a = wanted.aperture { planned.append("f/\(String(format: "%g", a))") }
                if let t = wanted.shutter { planned.append("\(RoleSettings.shutterText(t)) s") }
                if let i = wanted.iso { planned.append("ISO \(i)") }
                if let f = wanted.focusDistance { planned.append("focus \(String(format: "%g", f)) m") }
                if !planned.isEmpty { print("  rig file asks for: \(planned.joined(separator: ", "))") }
                if !brief {
                    print(try camera.summary().split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
                }
            }
        }
    }
}
