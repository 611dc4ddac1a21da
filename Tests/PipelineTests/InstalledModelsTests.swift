import Foundation
import IFANEngine
import NeuralCore
import Pipeline
import TestSupport
import Testing

/// The model store holds deblurring models under any name and LPIPS weights beside them; the default model is the
/// one a person imported, and LPIPS weights are never taken for a deblurring model.
@Suite struct InstalledModelsTests {
    @Test func theOnlyDeblurringModelIsTheDefaultWhateverItsNameAndLPIPSIsNeverOne() throws {
        let home = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: home) }
        let store = ModelStore(home: home)
        try store.createDirectory()
        try writeHeaderOnlySafetensors(store.url(forModel: "lpips-alex"), metadata: ["model": "lpips v0.1 alex"])
        #expect(try InstalledModels(store: store).defaultDeblurring() == nil)

        // The released layout, imported under the name `model import` gives it by default.
        let (architecture, weights) = try IFANModelFile.importCheckpoint(fixture("ifan-random/IFAN_random.pytorch"))
        try IFANModelFile.write(weights, architecture: architecture, source: "IFAN_random.pytorch",
                                to: store.url(forModel: "ifan_random"))
        let installed = try InstalledModels(store: store)
        #expect(installed.entries.map(\.kind) == [.deblurring, .lpips])
        #expect(try installed.defaultDeblurring() == "ifan_random")

        // capture/process without --model deblur with it; the note about missing weights is not given.
        var notes: [String] = []
        var settings = PipelineSettings(model: nil, modelName: nil, noModel: false, rigFile: nil, calibrationPath: nil, split: nil)
        settings.store = store
        let chosen = try #require(try settings.deblurModel())
        #expect(chosen.name == "ifan_random")
        settings.note = { notes.append($0) }
        _ = try settings.deblurModel()
        #expect(notes.isEmpty, "\(notes)")

        // LPIPS weights named as a model: refused, naming the deblurring models there are.
        let error = #expect(throws: ModelNameError.self) { try resolveModel("lpips-alex", store: store) }
        #expect("\(error!)".contains("LPIPS weights") && "\(error!)".contains("ifan_random"), "\(error!)")
        let missing = #expect(throws: IFANError.self) { try resolveModel("ifan", store: store) }
        #expect("\(missing!)".contains("the deblurring models installed are ifan_random"), "\(missing!)")

        // Two deblurring models, neither called ifan: the person chooses, and is told the names.
        try FileManager.default.copyItem(at: store.url(forModel: "ifan_random"), to: store.url(forModel: "other"))
        let several = #expect(throws: ModelNameError.self) { try InstalledModels(store: store).defaultDeblurring() }
        #expect("\(several!)".contains("ifan_random, other") && "\(several!)".contains("--model"), "\(several!)")
        // Among several, the one called ifan is the default.
        try FileManager.default.copyItem(at: store.url(forModel: "ifan_random"), to: store.url(forModel: "ifan"))
        #expect(try InstalledModels(store: store).defaultDeblurring() == "ifan")
    }
}
