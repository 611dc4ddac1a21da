import CJPEG
import CLibRaw
import CPNG

/// Versions of the C libraries the image code runs on, for `rigctl --version` and bug reports.
public enum ImagingLibraries {
    public static var versions: [(name: String, version: String)] {
        [
            ("libpng", String(cString: png_get_libpng_ver(nil))),
            ("libjpeg", "\(JPEG_LIB_VERSION / 10).\(JPEG_LIB_VERSION % 10) API"),
            ("libraw", String(cString: libraw_version())),
        ]
    }
}
