import Foundation

/// A synthetic test chart in linear light: 24 colour patches (values near a ColorChecker's), a grey ramp and a
/// band of fine lines. It exercises demosaicing, white balance and resampling on a machine with no camera, and
/// every region has a known value to check against.
public enum TestChart {
    /// Linear sRGB values of the 24 patches, row by row (4 rows of 6).
    public static let patches: [[Float]] = [
        [0.173, 0.085, 0.058], [0.545, 0.302, 0.226], [0.123, 0.194, 0.339], [0.102, 0.150, 0.054],
        [0.242, 0.216, 0.440], [0.133, 0.514, 0.409], [0.675, 0.201, 0.025], [0.070, 0.105, 0.394],
        [0.541, 0.087, 0.121], [0.106, 0.044, 0.141], [0.358, 0.501, 0.044], [0.710, 0.366, 0.018],
        [0.026, 0.050, 0.288], [0.068, 0.295, 0.063], [0.440, 0.033, 0.044], [0.724, 0.583, 0.008],
        [0.515, 0.086, 0.296], [0.000, 0.239, 0.378], [0.740, 0.740, 0.740], [0.475, 0.475, 0.475],
        [0.282, 0.282, 0.282], [0.145, 0.145, 0.145], [0.064, 0.064, 0.064], [0.022, 0.022, 0.022],
    ]

    /// Where patch `index` lies in a chart of the given size: (x, y, width, height).
    public static func patchRect(_ index: Int, width: Int, height: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let chartHeight = height * 3 / 4
        let cellW = width / 6, cellH = chartHeight / 4
        let margin = max(1, min(cellW, cellH) / 8)
        return ((index % 6) * cellW + margin, (index / 6) * cellH + margin, cellW - 2 * margin, cellH - 2 * margin)
    }

    public static func render(width: Int, height: Int) -> RGBImage {
        var image = RGBImage(width: width, height: height, transfer: .linear)
        let chartHeight = height * 3 / 4
        for y in 0..<height {
            for x in 0..<width {
                var rgb: [Float] = [0.03, 0.03, 0.03]
                if y < chartHeight {
                    for i in 0..<24 {
                        let r = patchRect(i, width: width, height: height)
                        if x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height { rgb = patches[i]; break }
                    }
                } else if y < chartHeight + (height - chartHeight) / 2 {
                    let v = Float(x) / Float(max(1, width - 1)) * 0.7
                    rgb = [v, v, v]
                } else {
                    // Lines whose period shrinks from 8 to 2 pixels across the chart.
                    let period = 8 - 6 * Double(x) / Double(max(1, width - 1))
                    let v: Float = sin(2 * Double.pi * Double(x) / period) >= 0 ? 0.6 : 0.05
                    rgb = [v, v, v]
                }
                for c in 0..<3 { image[c, x, y] = rgb[c] }
            }
        }
        return image
    }
}
