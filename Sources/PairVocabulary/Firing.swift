/// How the two cameras of a pair were fired: chosen in the rig file, recorded in each pair's sidecar and, with the
/// capture, in the catalogue (a skew means something different under each).
public enum TriggerMode: String, Sendable, Codable, CaseIterable {
    /// rigctl triggers both cameras over their links.
    case software
    /// A wired release fires both; rigctl waits for the files and pairs them by arrival time.
    case external
    /// rigctl fires a trigger box (the rig file's `triggerBox`) wired to both cameras' release sockets, then pairs
    /// the files as for an external release.
    case triggerBox = "trigger-box"
}
