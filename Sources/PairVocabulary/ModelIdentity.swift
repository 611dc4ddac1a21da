/// A deblurring model as the catalogue and the tables know it: a name, the weights it ran with, and its size.
/// Two models are the same model only when their weights are the same bytes.
public struct ModelIdentity: Sendable, Hashable, Codable {
    /// The name in tables and the catalogue (unique within a dataset).
    public var name: String
    /// SHA-256 of the weights file, lower-case hex; nil for a baseline without weights (the input itself).
    public var weightsSHA256: String?
    public var parameters: Int64?
    /// Multiply-accumulates for one inference at 1280x720 (ptflops' convention, as the papers' tables).
    public var macs: Int64?

    public init(name: String, weightsSHA256: String? = nil, parameters: Int64? = nil, macs: Int64? = nil) {
        self.name = name
        self.weightsSHA256 = weightsSHA256
        self.parameters = parameters
        self.macs = macs
    }
}
