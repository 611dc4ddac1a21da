import Alignment
import DatasetBuilder
import Evaluation
import Foundation
import Metrics
import NeuralCore
import PairVocabulary
import Rig

/// What `capture --dataset` and `process` were asked for: which model deblurs, how pairs are aligned, which split
/// new pairs go to. Turns them into a `PairProcessor`, refusing a bad model or calibration before any pair is
/// touched.
public struct PipelineSettings {
    public var model: String?
    /// `--model-name`: what the model is called in the catalogue (default: its store or file name).
    public var modelName: String?
    public var noModel: Bool
    /// A calibration given for this run (`process --rig` or `--calibration`); without one each capture is aligned
    /// with the calibration it was taken with.
    public var rigFile: RigFile?
    public var calibrationPath: String?
    public var split: Split?
    /// Where the models are installed.
    public var store = ModelStore()
    /// Where the LPIPS weights are looked for.
    public var lpipsLocations = LPIPS.installedLocations()
    /// Told what a person should know (no IFAN or LPIPS weights installed); the command prints it.
    public var note: (String) -> Void = { _ in }

    public init(model: String?, modelName: String?, noModel: Bool, rigFile: RigFile?, calibrationPath: String?,
                split: Split?) {
        self.model = model
        self.modelName = modelName
        self.noModel = noModel
        self.rigFile = rigFile
        self.calibrationPath = calibrationPath
        self.split = split
    }

    /// The processor for a dataset: IFAN when its weights are installed (or named), LPIPS when its weights are. A
    /// model whose name the dataset gives other weights is refused here, before any pair is touched.
    public func processor(for dataset: Dataset) throws -> PairProcessor {
        try processor(for: dataset, model: try deblurModel())
    }

    /// The processor with a model loaded already (`deblurModel()`), so that a bad model is found before the
    /// dataset is opened or created.
    public func processor(for dataset: Dataset, model: DeblurModel?) throws -> PairProcessor {
        var options = ProcessingOptions()
        options.split = split
        if let calibrationPath {
            options.calibration = try AlignmentCalibration.read(URL(fileURLWithPath: calibrationPath))
        } else if let file = rigFile {
            options.calibration = file.alignment ?? AlignmentCalibration()
        }
        if let model { try checkModelName(model.name, weights: model.weights, in: dataset) }
        let lpips = try LPIPSLoader.load(path: nil, installed: lpipsLocations)
        if let text = lpips.note { note(text) }
        return PairProcessor(dataset: dataset, options: options, model: model, lpips: lpips.network,
                             lpipsMissingReason: lpips.missingReason ?? "", protocols: try dataset.scoringProtocols())
    }

    /// The model that deblurs: nil with `noModel`, or when none is named and no IFAN weights are installed (then
    /// `note` says how to install them).
    public func deblurModel() throws -> DeblurModel? {
        if noModel { return nil }
        if let modelName { try validateModelName(modelName) }
        let chosen: String
        if let model {
            chosen = model
        } else if let installed = try InstalledModels(store: store).defaultDeblurring() {
            chosen = installed
        } else {
            note("no IFAN weights are installed, so pairs are aligned, catalogued and the input scored, but not "
                 + "deblurred. Import the released checkpoint with `rigctl model import IFAN.pytorch`, then run "
                 + "`rigctl process` to deblur the pairs taken meanwhile.")
            return nil
        }
        let (name, url) = try resolveModel(chosen, name: modelName, store: store)
        return try DeblurModel.ifan(name: name, weights: url)
    }
}
