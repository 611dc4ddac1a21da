// swift-tools-version: 6.0
import Foundation
import PackageDescription

// Layout, by layer: thin C targets (module map + shim header); the core (threads, files, the image type, the pair
// vocabulary, tensors); the modules in the order data flows; the command line; then tests and benchmarks.
let package = Package(
    name: "rigctl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rigctl", targets: ["rigctl"]),
        .library(name: "Imaging", targets: ["Imaging"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        // Hummingbird's own NIO, named for the review server's connection handling (HTTP/1.0 close).
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        // Hummingbird's own service lifecycle, named for the dashboard's graceful stop when the capture says so.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
    ],
    targets: [
        // ---- C libraries and shims: one thin target each.
        .systemLibrary(name: "CGPhoto2", pkgConfig: "libgphoto2", providers: [.apt(["libgphoto2-dev"])]),
        .systemLibrary(name: "CLibRaw", providers: [.apt(["libraw-dev"])]),
        .systemLibrary(name: "CPNG", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
        // CPU feature detection, OpenBLAS loaded with the core chosen from those features (dlopen, not linked: its
        // constructor would pick kernels by CPU model first), and the Winograd transforms per instruction set.
        .target(name: "CKernels", linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),
        // setjmp/longjmp error handling for libpng and libjpeg, which Swift cannot do.
        .target(
            name: "CodecShims",
            dependencies: ["CPNG", "CJPEG"],
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]
        ),
        // libraw in a child process (the running executable, re-entered before main), so that a RAW file that
        // crashes libraw fails as that file's error.
        .target(name: "CRawChild", dependencies: ["CLibRaw"]),
        // Keeps descriptor 0 for good: libgphoto2 closes it on every PTP/IP disconnect. It interposes close(), so
        // the symbol is exported for the camlibs that libgphoto2 loads at run time.
        .target(
            name: "CLibraryMessages",
            dependencies: ["CGPhoto2"],
            linkerSettings: [.linkedLibrary("dl"), .unsafeFlags(["-Xlinker", "--export-dynamic-symbol=perror"])]
        ),
        .target(
            name: "CDescriptorGuard",
            linkerSettings: [.linkedLibrary("dl"), .unsafeFlags(["-Xlinker", "--export-dynamic-symbol=close"])]
        ),

        // ---- Core: shared by every module above.
        // Joinable threads and the one locked-value box, for every module that starts threads or shares state.
        .target(name: "ThreadSupport"),
        // Crash-safe file writes (temporary sibling, fsync, rename), for every module that writes files.
        .target(name: "AtomicFiles"),
        // The one image type and the file formats.
        .target(name: "Imaging", dependencies: ["AtomicFiles", "CodecShims", "CPNG", "CJPEG", "CLibRaw", "CRawChild"]),
        // The words for a pair, defined once: verdict, review state, split, crop, homography, colour fit, quality
        // figures, camera roles, a model's identity, a score's protocol.
        .target(name: "PairVocabulary"),
        // Tensors, weight files and the convolution kernels shared by the network engine and the metrics.
        .target(name: "NeuralCore", dependencies: ["AtomicFiles", "CKernels", "ThreadSupport"]),

        // ---- Modules, in the order data flows: Rig -> Alignment -> DatasetBuilder; IFANEngine and Metrics are leaves.
        // A PTP/IP camera emulator that renders defocused frames of a scene (tests, rehearsals, demos).
        .target(name: "CPseudoTerminal"),
        .target(name: "VirtualCamera", dependencies: ["Imaging", "ThreadSupport", "CPseudoTerminal", .product(name: "Logging", package: "swift-log")]),
        // Dual-camera capture through libgphoto2.
        .target(name: "Rig", dependencies: ["PairVocabulary", "AtomicFiles", "Imaging", "CGPhoto2", "CDescriptorGuard", "CLibraryMessages", "ThreadSupport", .product(name: "Logging", package: "swift-log")]),
        // Sub-pixel registration, colour matching and the verdict on every shallow/deep-DOF pair.
        .target(name: "Alignment", dependencies: ["PairVocabulary", "Imaging", "ThreadSupport"]),
        // The dataset folder: SQLite catalogue, crash-safe ingest, import and export of test sets.
        .target(
            name: "DatasetBuilder",
            dependencies: [
                "PairVocabulary",
                "ThreadSupport",
                "AtomicFiles",
                "Imaging",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The IFAN defocus-deblurring network on the CPU.
        .target(name: "IFANEngine", dependencies: ["NeuralCore", "Imaging", "ThreadSupport"]),
        // PSNR, SSIM, MAE and LPIPS, as the defocus-deblurring papers compute them.
        .target(name: "Metrics", dependencies: ["CKernels", "NeuralCore", "ThreadSupport"]),
        // Scoring methods on test sets: pairs by name, tables in every format, the HTML report.
        .target(name: "Evaluation", dependencies: ["AtomicFiles", "Imaging", "Metrics", "IFANEngine", "PairVocabulary", "ThreadSupport"]),
        // Capture -> catalogue -> align -> deblur -> score, every pair as it arrives; resumable.
        .target(name: "Pipeline", dependencies: ["PairVocabulary", "ThreadSupport", "AtomicFiles", "Rig", "Alignment", "DatasetBuilder", "Evaluation", "IFANEngine", "Metrics", "NeuralCore", "Imaging"]),
        // What both loopback servers (review, live view) share: the access checks (Host, token, Origin), connection
        // limits, failures as answers, the page frame and its stylesheet.
        .target(
            name: "WebServing",
            dependencies: [
                "ThreadSupport",
                .product(name: "Hummingbird", package: "hummingbird", moduleAliases: ["Metrics": "SwiftMetrics"]),
                .product(name: "HummingbirdCore", package: "hummingbird", moduleAliases: ["Metrics": "SwiftMetrics"]),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The browser review of a dataset's pairs: JSON API, pages and images by id, served on loopback.
        .target(
            name: "Review",
            dependencies: [
                "PairVocabulary",
                "DatasetBuilder",
                "Alignment",
                "Imaging",
                "ThreadSupport",
                "WebServing",
                .product(name: "Hummingbird", package: "hummingbird", moduleAliases: ["Metrics": "SwiftMetrics"]),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A connected rig's live view registered and measured, frame by frame (`rigctl rig liveview`), and its page
        // served on loopback.
        .target(
            name: "LiveViewing",
            dependencies: [
                "PairVocabulary",
                "Rig",
                "Alignment",
                "Imaging",
                "ThreadSupport",
                "WebServing",
                .product(name: "Hummingbird", package: "hummingbird", moduleAliases: ["Metrics": "SwiftMetrics"]),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // `capture --serve`: the capture's page (cameras, trigger, pairs as they land, warnings), served on loopback
        // while the capture runs.
        .target(
            name: "CaptureDashboard",
            dependencies: [
                "PairVocabulary",
                "Rig",
                "Pipeline",
                "Metrics",
                "Imaging",
                "ThreadSupport",
                "WebServing",
                .product(name: "Hummingbird", package: "hummingbird", moduleAliases: ["Metrics": "SwiftMetrics"]),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // ---- The command line.
        .executableTarget(
            name: "rigctl",
            dependencies: [
                "PairVocabulary",
                "AtomicFiles",
                "Imaging",
                "NeuralCore",
                "IFANEngine",
                "Metrics",
                "Evaluation",
                "Rig",
                "VirtualCamera",
                "DatasetBuilder",
                "Alignment",
                "Pipeline",
                "LiveViewing",
                "CaptureDashboard",
                "ThreadSupport",
                "Review",
                "WebServing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // ---- Tests, mirroring the modules.
        // Helpers shared by the test targets (temporary folders, fixtures, seeded random numbers, running tools).
        // Also headless Chromium through its DevTools pipe, for the pages' browser tests.
        .target(name: "TestSupport", dependencies: ["ThreadSupport"], path: "Tests/TestSupport"),
        .testTarget(name: "ThreadSupportTests", dependencies: ["ThreadSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["TestSupport", "PairVocabulary", "AtomicFiles", "Imaging"]),
        .testTarget(name: "PairVocabularyTests", dependencies: ["PairVocabulary"]),
        .testTarget(name: "NeuralCoreTests", dependencies: ["TestSupport", "PairVocabulary", "NeuralCore"]),
        .testTarget(name: "VirtualCameraTests", dependencies: ["TestSupport", "ThreadSupport", "VirtualCamera", "Imaging"]),
        // Resources: C sources the tests compile themselves (the thread-exit shim).
        .testTarget(name: "RigTests", dependencies: ["TestSupport", "ThreadSupport", "PairVocabulary", "Rig", "CDescriptorGuard", "CLibraryMessages", "VirtualCamera", "Imaging"], exclude: ["Resources"]),
        .testTarget(name: "AlignmentTests", dependencies: ["PairVocabulary", "Alignment", "Imaging"]),
        // Resources: a dataset made by an earlier version, which every later one must open and keep.
        .testTarget(
            name: "DatasetBuilderTests",
            dependencies: ["TestSupport", "PairVocabulary", "DatasetBuilder", "AtomicFiles", "Imaging", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Resources"]
        ),
        // A child process the crash tests kill at random moments while it ingests and exports.
        .executableTarget(name: "DatasetCrashHelper", dependencies: ["DatasetBuilder"], path: "Tests/DatasetCrashHelper"),
        .testTarget(name: "IFANEngineTests", dependencies: ["TestSupport", "IFANEngine", "NeuralCore", "Imaging", "ThreadSupport"]),
        .testTarget(name: "MetricsTests", dependencies: ["TestSupport", "Metrics", "NeuralCore", "Imaging"]),
        .testTarget(name: "EvaluationTests", dependencies: ["TestSupport", "Evaluation", "Imaging", "PairVocabulary", "ThreadSupport", "Metrics", "NeuralCore"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "LiveViewingTests", dependencies: ["TestSupport", "LiveViewing", "Alignment", "Imaging", "PairVocabulary"]),
        .testTarget(name: "PipelineTests", dependencies: ["TestSupport", "ThreadSupport", "PairVocabulary", "Alignment", "Evaluation", "Pipeline", "Rig", "VirtualCamera", "DatasetBuilder", "IFANEngine", "Metrics", "NeuralCore", "Imaging"]),
        .testTarget(name: "CaptureDashboardTests", dependencies: ["TestSupport", "ThreadSupport", "PairVocabulary", "CaptureDashboard", "Rig", "Pipeline", "Metrics", "Imaging", "WebServing"]),
        .testTarget(name: "ReviewTests", dependencies: ["TestSupport", "ThreadSupport", "PairVocabulary", "Review", "WebServing", "DatasetBuilder", "Alignment", "Evaluation", "Imaging"]),
        // Drives the built rigctl binary end to end.
        .testTarget(name: "RigctlTests", dependencies: ["TestSupport", "ThreadSupport", "PairVocabulary", "Imaging"]),

        // ---- Benchmarks (swift run -c release NAME).
        // The machine line every benchmark prints beside its figures (CPU model, load average).
        .target(name: "BenchmarkSupport", path: "Benchmarks/BenchmarkSupport"),
        .executableTarget(name: "IFANBenchmark", dependencies: ["BenchmarkSupport", "IFANEngine", "NeuralCore"], path: "Benchmarks/IFANBenchmark"),
        .executableTarget(name: "MetricsBenchmark", dependencies: ["BenchmarkSupport", "Metrics", "NeuralCore", "Imaging"], path: "Benchmarks/MetricsBenchmark"),
        // `rigctl evaluate`'s pairs per minute at the RealDOF size, overlapped and one by one in the same run.
        .executableTarget(name: "EvaluationBenchmark", dependencies: ["BenchmarkSupport", "Evaluation", "IFANEngine", "Metrics", "NeuralCore", "Imaging", "PairVocabulary"],
                          path: "Benchmarks/EvaluationBenchmark"),
        .executableTarget(name: "AlignBenchmark", dependencies: ["Alignment", "AtomicFiles", "Imaging", "PairVocabulary"], path: "Benchmarks/AlignBenchmark"),
        .executableTarget(name: "RigBenchmark", dependencies: ["PairVocabulary", "Rig", "VirtualCamera", "Imaging"], path: "Benchmarks/RigBenchmark"),
        // Frames per second of `rig liveview`'s loop on the virtual rig, and the coarse registration's accuracy by size.
        .executableTarget(name: "LiveViewBenchmark", dependencies: ["BenchmarkSupport", "Rig", "VirtualCamera", "Alignment", "Imaging", "PairVocabulary"], path: "Benchmarks/LiveViewBenchmark"),
        .executableTarget(
            name: "DatasetBenchmark",
            dependencies: ["DatasetBuilder", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/DatasetBenchmark"
        ),
        .executableTarget(
            name: "PipelineBenchmark",
            dependencies: ["BenchmarkSupport", "PairVocabulary", "Pipeline", "Rig", "VirtualCamera", "DatasetBuilder", "IFANEngine", "Metrics", "NeuralCore", "Imaging"],
            path: "Benchmarks/PipelineBenchmark"
        ),
        // The browser review's queue and pages over HTTP on a catalogue of 10,000 pairs, served by the built
        // `rigctl review` (not linked in: Hummingbird's module alias would clash with this package's Metrics).
        .executableTarget(
            name: "ReviewBenchmark",
            dependencies: ["DatasetBuilder", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/ReviewBenchmark"
        ),
        // The review server under load: concurrent loopback clients, mixed pages, API and images, for a bounded
        // time against the built `rigctl review`; requests per second, p99 latency, the server's peak memory.
        .executableTarget(name: "ReviewLoadBenchmark", dependencies: ["DatasetBuilder", "PairVocabulary", "TestSupport", "ThreadSupport"],
                          path: "Benchmarks/ReviewLoadBenchmark"),
        // Many capture runs and one long one: aborts, lost pairs, memory and descriptors over time.
        .executableTarget(name: "SoakBenchmark", dependencies: ["ThreadSupport"], path: "Benchmarks/SoakBenchmark"),
    ]
)

// Coverage-guided fuzz targets: only when script/fuzz builds them (libFuzzer supplies main, so an ordinary build
// could not link them).
if ProcessInfo.processInfo.environment["RIGCTL_FUZZ"] == "1" {
    // Metrics is listed although the harness does not import it: Review brings Hummingbird with swift-metrics'
    // `Metrics` aliased to `SwiftMetrics`, and SwiftPM resolves that alias only with this package's Metrics in the
    // same product (as in rigctl); without it the graph fails with "conflicting name: 'SwiftMetrics'".
    package.targets.append(.executableTarget(
        name: "FuzzTargets", dependencies: ["Imaging", "Metrics", "NeuralCore", "Review", "Rig", "VirtualCamera"], path: "Fuzz/FuzzTargets",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])],
        linkerSettings: [.unsafeFlags(["-Xlinker", "--undefined=LLVMFuzzerRunDriver", "-Xlinker", "--export-dynamic"])]))
}

