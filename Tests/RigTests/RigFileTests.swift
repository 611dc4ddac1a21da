import Foundation
import PairVocabulary
import Rig
import Testing

@Suite struct RigFileTests {
    let valid = """
        {
          "version": 1,
          "name": "bench",
          "trigger": "external",
          "pairingWindow": 0.25,
          "cameras": [
            {"role": "deep", "port": "usb:001,004", "serial": "B2", "settings": {"aperture": 16, "shutter": "1/125", "iso": 1600}},
            {"role": "shallow", "serial": "A1", "settings": {"aperture": 2.8, "shutter": 0.004, "focusDistance": 2.5}}
          ],
          "alignment": {"mirror": "horizontal", "referenceHomography": [-1, 0, 6000.5, 0, 1, -2.25, 0, 0, 1],
                        "referenceFrames": {"source": [960, 640], "target": [640, 424]},
                        "distortion": {"source": [-0.012], "target": {"coefficients": [0.01, 0.002], "centre": [3000, 2000]}}}
        }
        """

    @Test func parsesAndRoundTripsWithItsAlignmentTyped() throws {
        let file = try RigFile.parse(Data(valid.utf8), path: "bench.json")
        #expect(file.trigger == .external)
        #expect(file.pairingWindow == 0.25)
        #expect(file.camera(.deep)?.port == "usb:001,004")
        #expect(file.camera(.shallow)?.port == nil && file.camera(.shallow)?.serial == "A1")
        #expect(file.camera(.deep)?.settings.shutter == 1.0 / 125)
        #expect(file.camera(.shallow)?.settings.shutter == 0.004)
        #expect(file.camera(.shallow)?.settings.focusDistance == 2.5)
        #expect(file.fileTimeout == 30 && file.busyRetries == 6, "defaults")
        // The calibration is one typed value from the file on: the same one Alignment and the catalogue take.
        let expected = AlignmentCalibration(
            mirror: .horizontal,
            distortion: .init(source: LensDistortion(coefficients: [-0.012]),
                              target: LensDistortion(coefficients: [0.01, 0.002], centre: [3000, 2000])),
            referenceHomography: try Homography([-1, 0, 6000.5, 0, 1, -2.25, 0, 0, 1]),
            referenceFrames: .init(source: FrameSize(width: 960, height: 640), target: FrameSize(width: 640, height: 424)))
        #expect(file.alignment == expected)
        let again = try RigFile.parse(try file.encoded(), path: "again.json")
        #expect(again == file)
    }

    @Test func shutterTextForms() {
        #expect(RoleSettings.shutterText(1.0 / 500) == "1/500")
        #expect(RoleSettings.shutterText(2) == "2")
        #expect(RoleSettings.shutterText(0.3) == "0.3")
        #expect(RoleSettings.parseShutter("1/250") == 0.004)
        #expect(RoleSettings.parseShutter("0.5s") == 0.5)
        #expect(RoleSettings.parseShutter("fast") == nil)
    }

    func expectInvalid(_ json: String, field: String, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try RigFile.parse(Data(json.utf8), path: "bad.json")
            Issue.record("accepted: \(json)", sourceLocation: sourceLocation)
        } catch let error as RigFileError {
            guard case .invalid(let path, let f, let reason) = error else {
                Issue.record("wrong error \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(path == "bad.json", sourceLocation: sourceLocation)
            #expect(f == field, "\(error)", sourceLocation: sourceLocation)
            #expect(reason.contains(text), "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains("bad.json"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func rejectsBadFilesNamingTheField() {
        let shallow = #"{"role": "shallow", "port": "ptpip:127.0.0.1:1:2"}"#
        let deep = #"{"role": "deep", "port": "ptpip:127.0.0.1:3:4"}"#
        expectInvalid(#"{"trigger": "software"}"#, field: "cameras", containing: "missing")
        expectInvalid(#"{"cameras": [\#(shallow)]}"#, field: "cameras", containing: "exactly two")
        expectInvalid(#"{"cameras": [\#(shallow), \#(shallow.replacingOccurrences(of: ":1:2", with: ":5:6"))]}"#,
                      field: "cameras", containing: "two cameras have the role \"shallow\"")
        expectInvalid(#"{"cameras": [\#(shallow), {"role": "deep"}]}"#, field: "cameras[1]", containing: "port or its serial")
        expectInvalid(#"{"cameras": [\#(shallow), {"role": "middle", "port": "usb:"}]}"#, field: "cameras[1].role", containing: "middle")
        expectInvalid(#"{"cameras": [\#(shallow), {"role": "deep", "port": "usb:", "settings": {"aperture": "f/8"}}]}"#,
                      field: "cameras[1].settings.aperture", containing: "expected a number")
        expectInvalid(#"{"cameras": [\#(shallow), {"role": "deep", "port": "usb:", "settings": {"iso": 100.5}}]}"#,
                      field: "cameras[1].settings.iso", containing: "whole number")
        expectInvalid(#"{"cameras": [\#(shallow), {"role": "deep", "port": "usb:", "settings": {"shutter": "soon"}}]}"#,
                      field: "cameras[1].settings.shutter", containing: "1/250")
        expectInvalid(#"{"cameras": [\#(shallow), {"role": "deep", "port": "usb:", "settings": {"apperture": 8}}]}"#,
                      field: "cameras[1].settings.apperture", containing: "unknown key")
        expectInvalid(#"{"cameras": [\#(shallow), \#(deep)], "trigger": "radio"}"#, field: "trigger", containing: "software, external, trigger-box")
        expectInvalid(#"{"cameras": [\#(shallow), \#(deep)], "version": 7}"#, field: "version", containing: "not supported")
        expectInvalid(#"{"cameras": [\#(shallow), \#(deep)], "alignment": [1, 2]}"#, field: "alignment", containing: "object")
        // The alignment object is checked when the file is read, not at the first capture, naming the key.
        expectInvalid(#"{"cameras": [\#(shallow), \#(deep)], "alignment": {"homography": [1, 0, 0, 0, 1, 0, 0, 0, 1]}}"#,
                      field: "alignment.homography", containing: "unknown key")
        expectInvalid(#"{"cameras": [\#(shallow), \#(deep)], "alignment": {"mirror": "diagonal"}}"#,
                      field: "alignment", containing: "mirror")
        expectInvalid(#"{"cameras": [\#(shallow), \#(deep)], "alignment": {"distortion": {"source": {"coefficients": [0.1], "centre": [1]}}}}"#,
                      field: "alignment", containing: "distortion.source: centre must be [x, y]")
        expectInvalid(#"{"cameras": [\#(shallow), \#(deep)], "alignment": {"referenceHomography": [1, 0, 0, 0, 1, 0, 0, 0, 0, 1]}}"#,
                      field: "alignment", containing: "referenceHomography")
        expectInvalid(#"{"cameras": [\#(shallow), \#(deep)], "alignment": {"referenceFrames": {"source": [9, 6], "target": [9, 6]}}}"#,
                      field: "alignment", containing: "without a referenceHomography")
        expectInvalid(#"{"cameras": [\#(shallow), \#(deep)], "pairingWindow": -1}"#, field: "pairingWindow", containing: "outside")
        expectInvalid(#"{"cameras": [\#(shallow), {"role": "deep", "port": "ptpip:127.0.0.1:1:2"}]}"#, field: "cameras[1].port", containing: "both cameras")
    }

    /// The trigger box section: read, written back the same, defaults filled in, and every bad value refused naming
    /// its field; the section and trigger "trigger-box" go together.
    @Test func triggerBoxSectionParsesRoundTripsAndIsChecked() throws {
        let shallow = #"{"role": "shallow", "port": "ptpip:127.0.0.1:1:2"}"#
        let deep = #"{"role": "deep", "port": "ptpip:127.0.0.1:3:4"}"#
        let json = #"{"trigger": "trigger-box", "cameras": [\#(shallow), \#(deep)], "#
            + #""maxSkew": 0.01, "triggerBox": {"device": "/dev/ttyACM0", "outputs": {"shallow": 3, "deep": 5}, "focusLead": 0.25, "bulb": 40}}"#
        let file = try RigFile.parse(Data(json.utf8), path: "box.json")
        #expect(file.trigger == .triggerBox && file.maxSkew == 0.01)
        let box = try #require(file.triggerBox)
        #expect(box == TriggerBoxSettings(device: "/dev/ttyACM0", shallowOutput: 3, deepOutput: 5, focusLead: 0.25,
                                          bulbMilliseconds: 40))
        #expect(box.enabledOutputs == [false, false, true, false, true, false])
        #expect(try RigFile.parse(file.encoded(), path: "again.json") == file)
        let minimal = try RigFile.parse(Data((#"{"trigger": "trigger-box", "cameras": [\#(shallow), \#(deep)], "#
                                              + #""triggerBox": {"device": "/dev/ttyUSB0"}}"#).utf8), path: "min.json")
        #expect(minimal.triggerBox == TriggerBoxSettings(device: "/dev/ttyUSB0", shallowOutput: 1, deepOutput: 2))

        let cameras = #""cameras": [\#(shallow), \#(deep)]"#
        expectInvalid(#"{"trigger": "trigger-box", \#(cameras)}"#, field: "triggerBox", containing: "missing")
        expectInvalid(#"{\#(cameras), "maxSkew": 0}"#, field: "maxSkew", containing: "outside")
        expectInvalid(#"{"trigger": "external", \#(cameras), "triggerBox": {"device": "/dev/ttyACM0"}}"#,
                      field: "triggerBox", containing: "set trigger to \"trigger-box\"")
        expectInvalid(#"{"trigger": "trigger-box", \#(cameras), "triggerBox": {"outputs": {"shallow": 1}}}"#,
                      field: "triggerBox.device", containing: "missing")
        expectInvalid(#"{"trigger": "trigger-box", \#(cameras), "triggerBox": {"device": "/dev/x", "outputs": {"deep": 7}}}"#,
                      field: "triggerBox.outputs.deep", containing: "outside 1...6")
        expectInvalid(#"{"trigger": "trigger-box", \#(cameras), "triggerBox": {"device": "/dev/x", "outputs": {"middle": 1}}}"#,
                      field: "triggerBox.outputs.middle", containing: "unknown key")
        expectInvalid(#"{"trigger": "trigger-box", \#(cameras), "triggerBox": {"device": "/dev/x", "bulb": 40000}}"#,
                      field: "triggerBox.bulb", containing: "outside 0...30000")
        expectInvalid(#"{"trigger": "trigger-box", \#(cameras), "triggerBox": {"device": "/dev/x", "focusLead": -1}}"#,
                      field: "triggerBox.focusLead", containing: "outside")
        expectInvalid(#"{"trigger": "trigger-box", \#(cameras), "triggerBox": {"device": "/dev/x", "baud": 9600}}"#,
                      field: "triggerBox.baud", containing: "unknown key")
    }

    @Test func syntaxAndMissingFileErrorsNameTheFile() throws {
        #expect(throws: RigFileError.self) { try RigFile.parse(Data("{\"cameras\": [".utf8), path: "broken.json") }
        do {
            _ = try RigFile.parse(Data("{\"cameras\": [".utf8), path: "broken.json")
        } catch let error as RigFileError {
            #expect(error.description.contains("broken.json") && error.description.contains("not valid JSON"))
        }
        do {
            _ = try RigFile.load(URL(fileURLWithPath: "/nonexistent/rig.json"))
            Issue.record("a missing file was accepted")
        } catch let error as RigFileError {
            #expect(error == .unreadable(path: "/nonexistent/rig.json", reason: "no such file"))
        }
    }

    @Test func exampleRigFilesInCalibrationAreValid() throws {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root = root.deletingLastPathComponent()
            try #require(root.path != "/", "package root not found")
        }
        let folder = root.appendingPathComponent("calibration")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".rig.json") }
        #expect(!names.isEmpty)
        for name in names {
            let file = try RigFile.load(folder.appendingPathComponent(name))
            #expect(file.cameras.count == 2)
        }
    }

    @Test func vendorNeutralSettingsParseRoundTripAndAreChecked() throws {
        let text = """
            {"cameras": [
              {"role": "shallow", "serial": "A", "settings": {"aperture": 2, "captureTarget": "ram", "imageFormat": "raw+jpeg", "focusMode": "manual"}},
              {"role": "deep", "serial": "B", "settings": {"captureTarget": "ram"}}
            ]}
            """
        let file = try RigFile.parse(Data(text.utf8), path: "v.json")
        #expect(file.camera(.shallow)?.settings == RoleSettings(aperture: 2, captureTarget: .ram, imageFormat: .rawPlusJPEG, focusMode: .manual))
        #expect(try RigFile.parse(file.encoded(), path: "again.json") == file)
        let bad = text.replacingOccurrences(of: "\"raw+jpeg\"", with: "\"tiff\"")
        let error = try #require(throws: RigFileError.self) { try RigFile.parse(Data(bad.utf8), path: "v.json") }
        #expect(error.description == "rig file v.json: cameras[0].settings.imageFormat: \"tiff\" is not one of: raw, raw+jpeg")
        // libgphoto2 keeps one capture target per host: the roles cannot differ.
        let split = text.replacingOccurrences(of: "{\"captureTarget\": \"ram\"}", with: "{\"captureTarget\": \"card\"}")
        let mixed = try #require(throws: RigFileError.self) { try RigFile.parse(Data(split.utf8), path: "v.json") }
        #expect(mixed.description.contains("one capture target per host"), "\(mixed)")
    }

    @Test func shippedExampleRigFilesParse() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["virtual.rig.json", "beamsplitter-usb.rig.json", "canon-nikon-usb.rig.json"] {
            _ = try RigFile.load(root.appendingPathComponent("calibration/\(name)"))
        }
    }
}
