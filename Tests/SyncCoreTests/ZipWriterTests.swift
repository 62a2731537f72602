import Foundation
import Testing
import ZIPFoundation

@testable import SyncCore

@Suite("ZIP writer (DOCX packaging)")
struct ZipWriterTests {
    struct Item {
        let path: String
        let bytes: [UInt8]
        let method: ZipWriter.Method
    }

    /// Empty, small, 1 MB random and 1 MB highly compressible entries, stored and deflated,
    /// names with Vietnamese diacritics.
    static func items() -> [Item] {
        var rng = SplitMix64(seed: 2026)
        let random = (0..<(1 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let line = Array("<w:p><w:r><w:t>Kế hoạch tuyên truyền cải cách hành chính năm 2026</w:t></w:r></w:p>\n".utf8)
        var repetitive: [UInt8] = []
        while repetitive.count < 1 << 20 { repetitive += line }
        let small = Array("Báo cáo kết quả thực hiện".utf8)
        var items: [Item] = []
        for method in [ZipWriter.Method.stored, .deflated] {
            let m = method == .stored ? "stored" : "deflated"
            items += [
                Item(path: "\(m)/rỗng.txt", bytes: [], method: method),
                Item(path: "\(m)/nhỏ.txt", bytes: small, method: method),
                Item(path: "\(m)/ngẫu-nhiên.bin", bytes: random, method: method),
                Item(path: "\(m)/lặp lại/Điều 5 — Sở Nội vụ.xml", bytes: repetitive, method: method),
            ]
        }
        return items
    }

    static func archive(_ items: [Item], level: Int32 = 2) throws -> Data {
        var w = ZipWriter(level: level)
        for item in items { try w.add(item.path, item.bytes, method: item.method) }
        return try w.finish()
    }

    @Test("ZIPFoundation reads every entry back, CRC checked, with the UTF-8 flag")
    func roundTripZIPFoundation() throws {
        let items = Self.items()
        let data = try Self.archive(items)
        let archive = try Archive(data: data, accessMode: .read)
        let entries = Array(archive)
        #expect(entries.map(\.path) == items.map(\.path))
        for (entry, item) in zip(entries, items) {
            var out = Data()
            let crc = try archive.extract(entry, skipCRC32: false) { out.append($0) }
            #expect(out == Data(item.bytes), "\(item.path)")
            #expect(crc == entry.checksum, "\(item.path)")
            #expect(entry.checksum == Data(item.bytes).crc32(checksum: 0), "\(item.path)")
            #expect(entry.uncompressedSize == UInt64(item.bytes.count))
        }
        // Bit 11 (UTF-8 names) in every local header and central directory record.
        let bytes = [UInt8](data)
        func u16(_ i: Int) -> UInt16 { UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8 }
        func u32(_ i: Int) -> UInt32 { UInt32(u16(i)) | UInt32(u16(i + 2)) << 16 }
        let eocd = bytes.count - 22
        #expect(u32(eocd) == 0x0605_4b50)
        #expect(Int(u16(eocd + 10)) == items.count)
        var at = Int(u32(eocd + 16))
        for item in items {
            #expect(u32(at) == 0x0201_4b50)
            #expect(u16(at + 8) & 0x0800 != 0)
            #expect(u16(at + 10) == (item.method == .stored ? 0 : 8))
            let nameLength = Int(u16(at + 28))
            #expect(Array(bytes[at + 46..<at + 46 + nameLength]) == Array(item.path.utf8))
            let local = Int(u32(at + 42))
            #expect(u32(local) == 0x0403_4b50)
            #expect(u16(local + 6) & 0x0800 != 0)
            at += 46 + nameLength
        }
    }

    @Test("python3 -m zipfile -t accepts the archive and reads the same entries")
    func roundTripPython() throws {
        let items = Self.items()
        let data = try Self.archive(items)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zipwriter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("thử.zip")
        try data.write(to: file)

        func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3"] + arguments
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let out = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: out, as: UTF8.self))
        }
        let test = try python(["-m", "zipfile", "-t", file.path])
        #expect(test.status == 0, "\(test.output)")
        #expect(test.output.contains("Done testing"), "\(test.output)")

        let script = """
            import sys, zipfile, zlib
            z = zipfile.ZipFile(sys.argv[1])
            for i in z.infolist():
                d = z.read(i)
                print(i.filename, len(d), i.compress_type, i.flag_bits & 0x800, zlib.crc32(d) == i.CRC, sep="|")
            """
        let listing = try python(["-c", script, file.path])
        #expect(listing.status == 0, "\(listing.output)")
        let expected = items.map { item in
            "\(item.path)|\(item.bytes.count)|\(item.method == .stored ? 0 : 8)|2048|True"
        }
        #expect(listing.output.split(separator: "\n").map(String.init) == expected)
    }

    @Test("The same entries give the same bytes")
    func reproducible() throws {
        let items = Self.items()
        #expect(try Self.archive(items) == Self.archive(items))
        #expect(try Self.archive([]) == Self.archive([]))
        // An empty archive is just the end of central directory record.
        #expect(try Self.archive([]).count == 22)
    }

    @Test("zlib's CRC-32 matches ZIPFoundation's")
    func crc() {
        let samples: [[UInt8]] = [[], Array("123456789".utf8), Array(repeating: 0xFF, count: 100_000)]
        for s in samples {
            let ours = s.withUnsafeBytes { ZipWriter.crc32($0) }
            #expect(ours == Data(s).crc32(checksum: 0))
        }
        #expect(Array("123456789".utf8).withUnsafeBytes { ZipWriter.crc32($0) } == 0xCBF4_3926)
    }

    @Test("More than 65,535 entries is refused with an internal error; the archive stays valid")
    func tooManyEntries() throws {
        var w = ZipWriter()
        for i in 0..<ZipWriter.maxEntries { try w.add("\(i)", [UInt8](), method: .stored) }
        #expect(throws: SyncError.self) { try w.add("một mục nữa", [UInt8]()) }
        do {
            try w.add("một mục nữa", [UInt8]())
        } catch let e as SyncError {
            #expect(e.code == .internal)
        }
        let archive = try Archive(data: w.finish(), accessMode: .read)
        #expect(Array(archive).count == ZipWriter.maxEntries)
    }

    @Test("Every level from 1 to 9 round-trips")
    func levels() throws {
        let items = Self.items().filter { $0.method == .deflated }
        for level in Int32(1)...9 {
            let archive = try Archive(data: Self.archive(items, level: level), accessMode: .read)
            for (entry, item) in zip(Array(archive), items) {
                var out = Data()
                _ = try archive.extract(entry) { out.append($0) }
                #expect(out == Data(item.bytes), "level \(level) \(item.path)")
            }
        }
    }
}
