import Imaging

/// The block-wise misalignment map of a pair that is already aligned and cropped (the images a dataset stores),
/// measured as `align` measures it after warping: a viewer can redraw the map from the stored pair without the
/// originals. Throws `AlignmentError.badImage` for images of different sizes (not an aligned pair).
public func measureMisalignment(source: RGBImage, target: RGBImage,
                                thresholds: VerdictThresholds = VerdictThresholds()) throws -> MisalignmentReport {
    guard source.width == target.width, source.height == target.height else {
        throw AlignmentError.badImage(name: "target", detail: "\(target.width)x\(target.height) is not the source's "
                                          + "\(source.width)x\(source.height); the misalignment map needs an aligned pair")
    }
    return focusAndMisalignment(source: Plane(luma: source), target: Plane(luma: target), thresholds: thresholds).report
}

/// The fraction of the source in focus and the residual shift of its in-focus blocks.
func focusAndMisalignment(source sg: Plane, target tg: Plane, thresholds: VerdictThresholds)
    -> (inFocus: Double, report: MisalignmentReport) {
    // In focus at two neighbouring scales (the finer one sensitive to slight defocus, the coarser one less
    // dominated by noise), the finer being full resolution up to about 6 megapixels (coarser, defocus of a
    // few pixels would pass for sharp): the blocks measured must be sharp in the source, or their shift means
    // nothing.
    var sLevel = sg, tLevel = tg, shift = 0
    while sLevel.width * sLevel.height > 6_500_000 && min(sLevel.width, sLevel.height) >= 128 {
        sLevel = sLevel.halved()
        tLevel = tLevel.halved()
        shift += 1
    }
    let fine = focusMap(source: sLevel, target: tLevel, homography: .identity, contrast: 1)
    let coarse = focusMap(source: sLevel.halved(), target: tLevel.halved(), homography: .identity, contrast: 1)
    var focus = upsampled(fine, shift: shift, width: sg.width, height: sg.height)
    let coarseFull = upsampled(coarse, shift: shift + 1, width: sg.width, height: sg.height)
    for i in focus.values.indices { focus.values[i] = min(focus.values[i], coarseFull.values[i]) }
    let inFocus = Double(focus.values.lazy.filter { $0 >= 0.5 }.count) / Double(focus.values.count)
    return (inFocus, misalignment(source: sg, target: tg, focus: focus, thresholds: thresholds))
}
