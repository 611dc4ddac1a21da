/// A model's size and cost as the papers' tables give them: parameters, and multiply-accumulates for one inference
/// at a stated size (ptflops' convention, 1280x720 by default). One type from the network's architecture through
/// the catalogue to the tables.
public struct ModelCost: Sendable, Hashable, Codable {
    public var parameters: Int?
    public var macs: Int?
    public var macsWidth: Int
    public var macsHeight: Int

    public init(parameters: Int?, macs: Int?, macsWidth: Int = 1280, macsHeight: Int = 720) {
        self.parameters = parameters
        self.macs = macs
        self.macsWidth = macsWidth
        self.macsHeight = macsHeight
    }

    /// GMACs, for tables.
    public var gigaMACs: Double? { macs.map { Double($0) / 1e9 } }
}
