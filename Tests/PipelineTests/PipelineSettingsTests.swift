import DatasetBuilder
import Foundation
import IFANEngine
import NeuralCore
import Pipeline
import TestSupport
import Testing
import ThreadSupport

/// The logic `capture --dataset`, `process`, `evaluate`, `deblur` and `metrics` share for choosing a model and the
/// LPIPS weights, tested without launching rigctl.
@Suite struct PipelineSettingsTests {
    @Test func aModelIsNamedByItsStoreNameOrItsFileName() throws {
        #expect(modelName(for: "ifan") == "ifan")
        #expect(modelName(for: "/weights/ifan-v2.safetensors") == "ifan-v2")
        #expect(modelName(for: "runs/best") == "best")
        let store = ModelStore(home: try makeTemporaryDirectory())
        defer { try? FileManager.default.removeItem(at: store.home) }
        let file = try resolveModel("/weights/ifan-v2.safetensors", store: store)
        #expect(file.name == "ifan-v2" && file.url.path == "/weights/ifan-v2.safetensors")
        #expect(try resolveModel("/weights/ifan-v2.safetensors", name: "mine", store: store).name == "mine")
        // A store name must be installed; the error names the store's folder and how to fill it.
        let error = #expect(throws: IFANError.self) { try resolveModel("nope", store: store) }
        #expect("\(error!)".contains("no model 'nope' in \(store.directory.path)"), "\(error!)")
        try FileManager.default.createDirectory(at: store.directory, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: store.url(forModel: "nope"))
        #expect(try resolveModel("nope", store: store).url == store.url(forModel: "nope"))
    }

    @Test func aModelNameMustFitACatalogueRowAndATable() throws {
        try validateModelName("ifan-b")
        for bad in ["", " ifan", "ifan\n", "a\u{7}b", "Input", String(repeating: "x", count: 101)] {
            #expect(throws: ModelNameError.self, "\(bad.debugDescription)") { try validateModelName(bad) }
        }
    }

    @Test func aNameTheDatasetGivesOtherWeightsIsRefused() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        let a = dir.appendingPathComponent("a.safetensors"), b = dir.appendingPathComponent("b.safetensors")
        try Data("weights a".utf8).write(to: a)
        try Data("weights b".utf8).write(to: b)
        _ = try dataset.registerModel(ModelInput(name: "m", weights: a))
        try checkModelName("m", weights: a, in: dataset)
        try checkModelName("other", weights: b, in: dataset)
        let clash = #expect(throws: ModelNameError.self) { try checkModelName("m", weights: b, in: dataset) }
        #expect(clash!.description.hasSuffix("; give these weights another name with --model-name NAME"), "\(clash!)")
        // The dataset says which weights hold the name and which were offered, as values.
        let conflict = try #require(try dataset.modelNameConflict("m", weights: b))
        #expect(conflict.registered == SHA256Hex.of(Data("weights a".utf8)) && conflict.offered?.path == b.path
                && conflict.offered?.sha256 == SHA256Hex.of(Data("weights b".utf8)), "\(conflict)")
        #expect(try dataset.modelNameConflict("m", weights: a) == nil)
        let baseline = #expect(throws: ModelNameError.self) { try checkModelName("m", weights: nil, in: dataset) }
        #expect(baseline!.description.hasSuffix("; choose another --name"), "\(baseline!)")
    }

    @Test func withoutLPIPSWeightsTheScoresGoOnAndTheNoteSaysWhereItLooked() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("lpips-alex.safetensors")
        let loaded = try LPIPSLoader.load(path: nil, installed: [missing])
        #expect(loaded.network == nil)
        #expect(loaded.missingReason == "LPIPS weights not installed")
        #expect(loaded.note?.contains("looked for \(missing.path)") == true, "\(loaded.note ?? "")")
        // A file the person named is read or is an error, never silently left out.
        #expect(throws: (any Error).self) { try LPIPSLoader.load(path: missing.path, installed: []) }
    }

    @Test func settingsChooseTheModelAndSayWhyNoneDeblurs() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let notes = LockedValue<[String]>([])
        func settings(model: String? = nil, name: String? = nil, noModel: Bool = false) -> PipelineSettings {
            var s = PipelineSettings(model: model, modelName: name, noModel: noModel, rigFile: nil, calibrationPath: nil,
                                     split: nil)
            s.store = ModelStore(home: dir)
            s.lpipsLocations = [dir.appendingPathComponent("lpips-alex.safetensors")]
            s.note = { text in notes.withLock { $0.append(text) } }
            return s
        }
        #expect(try settings(noModel: true).deblurModel() == nil)
        #expect(notes.withLock { $0 }.isEmpty)
        // No model named and no IFAN installed: the pairs are still aligned and scored, and the note says how to fix it.
        #expect(try settings().deblurModel() == nil)
        #expect(notes.withLock { $0 }.count == 1 && notes.withLock { $0[0] }.contains("no IFAN weights are installed"))
        #expect(throws: IFANError.self) { try settings(model: "nope").deblurModel() }
        #expect(throws: ModelNameError.self) { try settings(model: "nope", name: "input").deblurModel() }

        // The processor: the calibration given for the run is read first, then LPIPS (missing here, with its note).
        let dataset = try Dataset.create(at: dir.appendingPathComponent("ds"))
        var bad = settings(noModel: true)
        bad.calibrationPath = dir.appendingPathComponent("missing.json").path
        #expect(throws: (any Error).self) { try bad.processor(for: dataset) }
        let processor = try settings(noModel: true).processor(for: dataset)
        #expect(processor.model == nil && processor.lpips == nil)
        #expect(processor.methods.count == 1)
        #expect(notes.withLock { $0 }.last?.contains("LPIPS weights are not installed") == true)
    }
}
