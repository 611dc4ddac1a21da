import Alignment
import Foundation
import Imaging

extension LiveViewFrame {
    /// What the --serve page shows: both views side by side and the chosen overlay as JPEG, the figures as JSON.
    public func snapshot() throws -> LiveViewSnapshot {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return LiveViewSnapshot(frame: measurement.frame,
                                views: try JPEGFile.encode(LiveViewImages.sideBySide(shallow, deep).raster8(), quality: 85),
                                difference: try JPEGFile.encode(LiveViewImages.overlay(overlay, shallow, deep).raster8(), quality: 85),
                                overlay: overlay,
                                measurement: try encoder.encode(measurement))
    }
}
