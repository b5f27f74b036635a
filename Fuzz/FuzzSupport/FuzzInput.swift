import CFuzzDriver
import Foundation

/// The check of the running target, for libFuzzer's C callback (which cannot capture it).
nonisolated(unsafe) private var target: (([UInt8]) -> Void)?

/// What every fuzz target shares: its main, a scratch folder for inputs that must be files, and
/// the replay driver of an ordinary build.
public enum FuzzInput {
    /// The target's main: under Fuzz/run (FUZZING) libFuzzer feeds `check`; in an ordinary build
    /// `check` replays the files named on the command line.
    public static func main(_ check: @escaping ([UInt8]) -> Void) {
        #if FUZZING
        target = check
        exit(fuzz_run_driver(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            guard let data, size > 0 else { target?([]); return 0 }
            target?(Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        })
        #else
        replay(check)
        #endif
    }

    /// A per-process scratch folder (RAM-backed when /dev/shm exists).
    public static let scratch: String = {
        let root = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let dir = "\(root)/fluxchat-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Writes `bytes` to `name` under the scratch folder and returns its path.
    public static func file(_ name: String, _ bytes: [UInt8]) -> String {
        let path = scratch + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// A repository file the target needs (a tokenizer model), found from the working folder or
    /// `$FLUXCHAT_ROOT`.
    public static func repositoryFile(_ relative: String) -> String {
        let root = ProcessInfo.processInfo.environment["FLUXCHAT_ROOT"] ?? FileManager.default.currentDirectoryPath
        return (root as NSString).appendingPathComponent(relative)
    }

    /// Runs `check` on every file named on the command line (folders: every file inside), so a
    /// crash input found by libFuzzer replays in an ordinary build. Prints how many ran.
    static func replay(_ check: ([UInt8]) -> Void) {
        var count = 0
        for arg in CommandLine.arguments.dropFirst() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: arg, isDirectory: &isDir) else { continue }
            let names = isDir.boolValue ? ((try? FileManager.default.contentsOfDirectory(atPath: arg)) ?? []).sorted().map { arg + "/" + $0 } : [arg]
            for path in names {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                check([UInt8](data))
                count += 1
            }
        }
        print("replayed \(count) inputs")
    }
}
