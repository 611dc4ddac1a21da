import Foundation

/// One rig-file setting as it ended up on the camera: what was asked, the camera's own choice that means it, and
/// what the camera reported when read back after everything was applied.
public struct AppliedSetting: Sendable, Equatable, Codable {
    public var setting: RigSetting
    /// The configuration entry (empty when the camera needs none, like a generic camera's card target).
    public var entry: String
    /// The rig file's value, as a person reads it ("f/2", "1/500 s", "ISO 100").
    public var wanted: String
    /// The choice written to the entry.
    public var choice: String
    /// The entry's value read back.
    public var readBack: String
}

/// A setting resolved against the camera's own entries, before anything is written.
struct PlannedSetting {
    var setting: RigSetting
    var entry: String
    var wanted: String
    var choice: String
    /// False when the entry is read-only and already holds the choice (nothing to write).
    var write: Bool
}

extension RigCamera {
    /// Resolves every setting of the role against the camera's entries and choices, then writes them, then reads
    /// each back. A value the camera does not offer is refused before anything is written, with the camera's
    /// list; a setting the camera accepted but did not keep is an error too.
    @discardableResult
    public func applySettings() throws -> [AppliedSetting] {
        let entries = try allSettings()
        let plan = try plan(spec.settings, entries: entries)
        for p in plan where p.write {
            let current = entries.first { $0.name == p.entry }?.value
            if current != p.choice { try set(p.entry, to: p.choice) }
        }
        // Pending change events refresh libgphoto2's caches, so the read-back sees what the camera holds.
        try? drainEvents()
        var applied: [AppliedSetting] = []
        for p in plan {
            let back = p.entry.isEmpty ? p.choice : try setting(p.entry).value
            guard back == p.choice else {
                throw RigError.camera(CameraFailure(role: role, camera: label, stage: .configuring,
                                                    reason: "\(p.setting) \(p.wanted) was set as \(p.entry)=\"\(p.choice)\" but the camera reads back \"\(back)\": it ignored the setting"))
            }
            applied.append(AppliedSetting(setting: p.setting, entry: p.entry, wanted: p.wanted, choice: p.choice, readBack: back))
        }
        if let format = applied.first(where: { $0.setting == .imageFormat }) {
            filesPerShot = Self.filesPerShot(vendor: vendor, entries: [CameraSetting(path: "", name: format.entry, label: "", kind: .radio,
                                                                                      value: format.readBack, choices: [], readOnly: false)])
        }
        return applied
    }

    /// The choices to write for `settings`, or the first setting the camera cannot take, with its list of choices.
    func plan(_ settings: RoleSettings, entries: [CameraSetting]) throws -> [PlannedSetting] {
        let table = VendorTable.of(vendor)
        var plan: [PlannedSetting] = []
        func refuse(_ setting: RigSetting, _ reason: String) -> RigError {
            .camera(CameraFailure(role: role, camera: label, stage: .configuring, reason: "\(setting): \(reason)"))
        }
        func resolve(_ setting: RigSetting, _ wanted: String, _ pick: ([String]) -> String?) throws {
            guard let row = table.entry(setting), let entry = entries.first(where: { $0.name == row.entry }) else {
                throw refuse(setting, "this \(vendor) camera offers no setting for it; leave \(setting) out of the rig file")
            }
            let choices = entry.choices.isEmpty ? [entry.value] : entry.choices
            guard let choice = pick(choices) else {
                throw refuse(setting, "\(wanted) is not offered by the camera's \(row.entry) entry; its choices: "
                                      + choices.joined(separator: ", "))
            }
            if entry.readOnly && choice != entry.value {
                throw refuse(setting, "the camera's \(row.entry) entry is read-only here and holds \"\(entry.value)\", not \"\(choice)\""
                                      + (setting == .focusMode ? "; set the lens or body switch to manual focus" : ""))
            }
            plan.append(PlannedSetting(setting: setting, entry: row.entry, wanted: wanted, choice: choice, write: !entry.readOnly))
        }
        if let a = settings.aperture {
            try resolve(.aperture, "f/" + String(format: "%g", a)) { SettingChoice.aperture(a, in: $0) }
        }
        if let t = settings.shutter {
            try resolve(.shutter, RoleSettings.shutterText(t) + " s") { SettingChoice.shutter(t, in: $0) }
        }
        if let iso = settings.iso { try resolve(.iso, "ISO \(iso)") { SettingChoice.iso(iso, in: $0) } }
        if let metres = settings.focusDistance {
            let wanted = String(format: "%g m", metres)
            guard let row = table.entry(.focusDistance), let entry = entries.first(where: { $0.name == row.entry }) else {
                throw refuse(.focusDistance, "this \(vendor) camera offers no focus distance setting; focus by hand and leave focusDistance out of the rig file")
            }
            plan.append(PlannedSetting(setting: .focusDistance, entry: row.entry, wanted: wanted,
                                       choice: Self.closestFocusChoice(metres: metres, entry: entry), write: true))
        }
        if let target = settings.captureTarget {
            if vendor == .generic {
                // Generic PTP capture always stores on the card; there is no RAM target to choose.
                guard target == .card else {
                    throw refuse(.captureTarget, "a generic PTP camera stores every capture on its card; \"ram\" needs a Canon, Nikon or Sony body")
                }
                plan.append(PlannedSetting(setting: .captureTarget, entry: "", wanted: target.rawValue, choice: "card", write: false))
            } else {
                try resolve(.captureTarget, target.rawValue) { SettingChoice.captureTarget(target, in: $0) }
            }
        }
        if let format = settings.imageFormat {
            try resolve(.imageFormat, format.rawValue) { SettingChoice.imageFormat(format, in: $0) }
        }
        if let mode = settings.focusMode {
            try resolve(.focusMode, mode.rawValue) { SettingChoice.focusMode(mode, in: $0) }
        }
        return plan
    }

    /// The focus-distance choice ("2500 mm", "infinite") nearest to `metres`; for range entries, millimetres.
    static func closestFocusChoice(metres: Double, entry: CameraSetting) -> String {
        let mm = metres * 1000
        guard !entry.choices.isEmpty else { return String(format: "%.0f", mm) }
        var best = entry.choices[0]
        var bestDistance = Double.infinity
        for choice in entry.choices {
            let value: Double
            if choice == "infinite" { value = 1e9 } else if let v = Double(choice.replacingOccurrences(of: " mm", with: "")) { value = v } else { continue }
            // Compare in dioptres: what matters for focus is 1/distance.
            let distance = abs(1 / value - 1 / mm)
            if distance < bestDistance {
                bestDistance = distance
                best = choice
            }
        }
        return best
    }
}
