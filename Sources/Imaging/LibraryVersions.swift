import CJPEG
import CLibRaw
import CPNG

/// Versions of the C libraries the image code runs on, for `rigctl --version` and bug reports.
public enum ImagingLibraries {
    static var turboVersion: String {
        let n = Int(LIBJPEG_TURBO_VERSION_NUMBER)
        return "\(n / 1_000_000).\(n / 1000 % 1000).\(n % 1000)"
    }

    public static var versions: [(name: String, version: String)] {
        [
            ("libpng", String(cString: png_get_libpng_ver(nil))),
            ("libjpeg-turbo", turboVersion),
            ("libraw", String(cString: libraw_version())),
        ]
    }
}
