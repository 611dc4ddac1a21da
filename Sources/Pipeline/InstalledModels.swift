import Foundation
import IFANEngine
import NeuralCore

/// The files in the model store, told apart by what they are for, so that the default deblurring model is the one
/// a person imported (whatever its name) and LPIPS weights, which live in the same folder, are never offered or
/// loaded as a deblurring model.
public struct InstalledModels: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, Codable {
        /// IFAN weights (the metadata `model import` writes names the architecture).
        case deblurring
        /// LPIPS weights, a metric's network.
        case lpips
        /// A file whose metadata names neither (another architecture, or unreadable metadata).
        case unknown
    }

    public struct Entry: Sendable, Equatable {
        public let name: String
        public let kind: Kind
    }

    public let store: ModelStore
    public let entries: [Entry]

    public static func == (a: InstalledModels, b: InstalledModels) -> Bool { a.entries == b.entries }

    /// Reads the store's file names and each file's metadata header (not its tensors).
    public init(store: ModelStore) throws {
        self.store = store
        entries = try store.installedModels().map { name in Entry(name: name, kind: Self.kind(of: store.url(forModel: name))) }
    }

    public static func kind(of url: URL) -> Kind {
        guard let metadata = try? SafeTensors.readMetadata(url) else { return .unknown }
        if metadata[IFANModelFile.architectureKey] == IFANModelFile.architectureName { return .deblurring }
        if metadata["model"]?.lowercased().hasPrefix("lpips") == true { return .lpips }
        return .unknown
    }

    public var deblurring: [String] { entries.filter { $0.kind == .deblurring }.map(\.name) }

    public func kind(of name: String) -> Kind? { entries.first { $0.name == name }?.kind }

    /// The model used when none is named: the only deblurring model installed, or among several the one called
    /// `ifan` (the released checkpoint's usual name); nil when none is installed. Several others: the caller must
    /// choose, and the error names them.
    public func defaultDeblurring() throws -> String? {
        let names = deblurring
        if names.count <= 1 { return names.first }
        if names.contains("ifan") { return "ifan" }
        throw ModelNameError("several deblurring models are installed (\(names.joined(separator: ", "))): "
            + "choose one with --model NAME")
    }

    /// Refuses a store name that is installed but is not a deblurring model (LPIPS weights), naming the ones that are.
    public func requireDeblurring(_ name: String) throws {
        guard let kind = kind(of: name), kind == .lpips else { return }
        throw ModelNameError("'\(name)' is LPIPS weights (a metric's network), not a deblurring model; "
            + installedSentence)
    }

    /// "the deblurring models installed are a, b" / "no deblurring model is installed: import one with ...".
    public var installedSentence: String {
        let names = deblurring
        return names.isEmpty
            ? "no deblurring model is installed: import the released checkpoint with `rigctl model import IFAN.pytorch`"
            : "the deblurring models installed are \(names.joined(separator: ", ")) (choose with --model NAME)"
    }
}
