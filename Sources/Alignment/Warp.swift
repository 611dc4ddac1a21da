import Foundation
import PairVocabulary
import Imaging

/// Where each source pixel is found in the target file: source lens undistortion, the homography, target lens
/// distortion.
struct PixelMap: Sendable {
    var homography: Homography
    var sourceDistortion: BoundDistortion?
    var targetDistortion: BoundDistortion?

    @inline(__always)
    func callAsFunction(_ x: Double, _ y: Double) -> (Double, Double) {
        var (x, y) = (x, y)
        if let d = sourceDistortion { (x, y) = d.undistort(x, y) }
        let m = homography.m
        let z = 1 / (m[6] * x + m[7] * y + m[8])
        var qx = (m[0] * x + m[1] * y + m[2]) * z, qy = (m[3] * x + m[4] * y + m[5]) * z
        if let d = targetDistortion { (qx, qy) = d.distort(qx, qy) }
        return (qx, qy)
    }
}

/// The source pixels whose target position has full bicubic support, counted, and the largest axis-aligned
/// rectangle of them.
func validRegion(map: PixelMap, sourceWidth w: Int, sourceHeight h: Int, targetWidth tw: Int, targetHeight th: Int)
    -> (crop: CropRect?, overlap: Double) {
    var mask = [UInt8](repeating: 0, count: w * h)
    let hi = (Double(tw) - 2, Double(th) - 2)
    let counts = mask.withUnsafeMutableBufferPointer { buf in
        let p = buf.baseAddress!
        return Parallel.map(count: h, minChunk: 8) { rows -> Int in
            var c = 0
            for y in rows {
                for x in 0..<w {
                    let (qx, qy) = map(Double(x), Double(y))
                    if qx >= 1, qy >= 1, qx < hi.0, qy < hi.1 {
                        p[y * w + x] = 1
                        c += 1
                    }
                }
            }
            return c
        }
    }
    let overlap = Double(counts.reduce(0, +)) / Double(w * h)
    // Largest rectangle of ones: row by row histogram of run heights and a monotone stack.
    var heights = [Int](repeating: 0, count: w + 1)
    var best = (area: 0, x: 0, y: 0, w: 0, h: 0)
    var stack: [Int] = []
    stack.reserveCapacity(w + 1)
    for y in 0..<h {
        for x in 0..<w { heights[x] = mask[y * w + x] != 0 ? heights[x] + 1 : 0 }
        heights[w] = 0
        stack.removeAll(keepingCapacity: true)
        for x in 0...w {
            while let top = stack.last, heights[top] >= heights[x] {
                stack.removeLast()
                let height = heights[top]
                let left = stack.last.map { $0 + 1 } ?? 0
                let width = x - left
                if height * width > best.area {
                    best = (height * width, left, y - height + 1, width, height)
                }
            }
            stack.append(x)
        }
    }
    guard best.area > 0 else { return (nil, overlap) }
    return (CropRect(x: best.x, y: best.y, width: best.w, height: best.h), overlap)
}

/// Keys' cubic convolution weights (a = -0.5) for the four taps around a fractional position t in [0, 1).
@inline(__always)
func cubicWeights(_ t: Float) -> (Float, Float, Float, Float) {
    let t2 = t * t, t3 = t2 * t
    return (-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1, -1.5 * t3 + 2 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2)
}

/// The target resampled onto the source grid inside `crop` (bicubic, all three channels with shared weights).
func warpBicubic(_ image: RGBImage, map: PixelMap, crop: CropRect) -> RGBImage {
    let ow = crop.width, oh = crop.height, on = ow * oh
    let iw = image.width, ih = image.height, n = image.planeSize
    var out = [Float](repeating: 0, count: 3 * on)
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let s = src.baseAddress!, d = dst.baseAddress!
            Parallel.forEach(count: oh, minChunk: 4) { rows in
                for j in rows {
                    for i in 0..<ow {
                        let (qx, qy) = map(Double(crop.x + i), Double(crop.y + j))
                        let xc = min(max(qx, 1), Double(iw) - 2.001), yc = min(max(qy, 1), Double(ih) - 2.001)
                        let x0 = Int(xc), y0 = Int(yc)
                        let (a0, a1, a2, a3) = cubicWeights(Float(xc - Double(x0)))
                        let (b0, b1, b2, b3) = cubicWeights(Float(yc - Double(y0)))
                        for c in 0..<3 {
                            let base = s + c * n + (y0 - 1) * iw + (x0 - 1)
                            let r0 = base, r1 = base + iw, r2 = base + 2 * iw, r3 = base + 3 * iw
                            let v0 = a0 * r0[0] + a1 * r0[1] + a2 * r0[2] + a3 * r0[3]
                            let v1 = a0 * r1[0] + a1 * r1[1] + a2 * r1[2] + a3 * r1[3]
                            let v2 = a0 * r2[0] + a1 * r2[1] + a2 * r2[2] + a3 * r2[3]
                            let v3 = a0 * r3[0] + a1 * r3[1] + a2 * r3[2] + a3 * r3[3]
                            d[c * on + j * ow + i] = b0 * v0 + b1 * v1 + b2 * v2 + b3 * v3
                        }
                    }
                }
            }
        }
    }
    return RGBImage(width: ow, height: oh, transfer: image.transfer, pixels: out)
}

/// A grey plane resampled on a new grid through an arbitrary point map (bilinear): used to bring images into
/// lens-undistorted coordinates for registration.
func resample(_ plane: Plane, width w: Int, height h: Int, _ f: @Sendable (Double, Double) -> (Double, Double)) -> Plane {
    var out = [Float](repeating: 0, count: w * h)
    plane.values.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let s = src.baseAddress!, d = dst.baseAddress!
            Parallel.forEach(count: h, minChunk: 8) { rows in
                for y in rows {
                    for x in 0..<w {
                        let (qx, qy) = f(Double(x), Double(y))
                        d[y * w + x] = bilinear(s, plane.width, plane.height, Float(qx), Float(qy))
                    }
                }
            }
        }
    }
    return Plane(width: w, height: h, values: out)
}
