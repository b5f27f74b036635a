import Foundation

/// A regular file mapped read-only (safetensors and GGUF weights are used in place from it).
enum MappedFile {
    /// (base, size) of `path` mapped whole; typed errors for a missing, unreadable or irregular
    /// file, or one shorter than `minBytes` (`what` names the header it must hold).
    static func map(_ path: String, minBytes: Int, what: String) throws -> (UnsafeMutableRawPointer, Int) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { throw FluxError(.fileNotFound, "\(path): no such file") }
            throw FluxError(.ioError, "\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw FluxError(.fileInvalid, "\(path): not a regular file")
        }
        let size = Int(st.st_size)
        guard size >= minBytes else { throw FluxError(.fileInvalid, "\(path): \(size) bytes is too short for \(what)") }
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw FluxError(.ioError, "\(path): mmap failed (\(String(cString: strerror(errno))))")
        }
        return (m, size)
    }
}
