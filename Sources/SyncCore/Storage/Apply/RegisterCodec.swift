import Foundation

/// The sync metadata of a typed row (its `meta` blob): the record's field registers in a compact
/// binary form. Pure: it needs only the origin table, no database.
///
/// Per register, in field order:
/// - a header `(field - previous field - 1) << 4 | min(survivors, 3) << 2 | min(context, 3)`, then
///   the survivor count and the context count, each only when 3 or more;
/// - each survivor (the winner first) as (origin index, counter, HLC): the record's first survivor
///   carries its HLC in storage form, the others a difference from it (`writeHLCDelta`), since one
///   record's timestamps are close;
/// - each context entry (highest superseded counter per origin, sorted by origin) as
///   (origin index, counter).
///
/// Nearly every register then takes one byte of header.
enum RegisterCodec {
    /// Encodes `registers` into `buffer` (emptied first).
    static func encode(_ registers: RegisterSet, origins: OriginTable, into buffer: inout VarintWriter) throws {
        buffer.reset()
        var base: Int64?
        var previousField = -1
        func write(_ survivor: Version) throws {
            buffer.write(try origins.index(survivor.dot.origin))
            buffer.write(survivor.dot.counter)
            let t = survivor.hlc.storageValue
            if let base {
                writeHLCDelta(t &- base, into: &buffer)
            } else {
                buffer.write(t)
                base = t
            }
        }
        func write(_ context: Dot) throws {
            buffer.write(try origins.index(context.origin))
            buffer.write(context.counter)
        }
        // Read in place: a `for (field, register) in` loop copies each register (and its arrays).
        try registers.entries.withUnsafeBufferPointer { entries in
            for i in entries.indices {
                let field = entries[i].field
                let survivorCount = entries[i].register.survivorCount
                let contextCount = entries[i].register.contextCount
                buffer.write(UInt64(field - previousField - 1) << 4 | UInt64(min(survivorCount, 3)) << 2 | UInt64(min(contextCount, 3)))
                previousField = field
                if survivorCount >= 3 { buffer.write(survivorCount) }
                if contextCount >= 3 { buffer.write(contextCount) }
                if let w = entries[i].register.winner { try write(w) }
                if !entries[i].register.losers.isEmpty { for s in entries[i].register.losers { try write(s) } }
                if let d = entries[i].register.firstContext { try write(d) }
                if !entries[i].register.moreContext.isEmpty { for d in entries[i].register.moreContext { try write(d) } }
            }
        }
    }

    static func decode(_ data: Data, fieldCount: Int, origins: OriginTable) throws -> RegisterSet {
        try data.withUnsafeBytes { try decode($0, fieldCount: fieldCount, origins: origins) }
    }

    /// Decodes what `encode` wrote for a record of `fieldCount` fields; damaged bytes are refused
    /// as `corrupt`, never trusted.
    static func decode(_ bytes: UnsafeRawBufferPointer, fieldCount: Int, origins: OriginTable) throws -> RegisterSet {
        var reader = RawVarintReader(bytes)
        var registers = RegisterSet()
        var base: Int64?
        var field = -1
        while !reader.atEnd {
            let header = try reader.read()
            field += Int(truncatingIfNeeded: header >> 4) + 1
            guard field >= 0, field < fieldCount else { throw SyncError(.corrupt, "Siêu dữ liệu có trường không tồn tại.") }
            let survivorCount = header >> 2 & 3 == 3 ? try reader.readInt() : Int(header >> 2 & 3)
            let contextCount = header & 3 == 3 ? try reader.readInt() : Int(header & 3)
            guard survivorCount >= 0, contextCount >= 0, survivorCount <= bytes.count, contextCount <= bytes.count else {
                throw SyncError(.corrupt, "Siêu dữ liệu đồng bộ bị hỏng (số lượng).")
            }
            func survivor() throws -> Version {
                let origin = try origins.replica(try reader.readInt64())
                let counter = try reader.read()
                let t: Int64
                if let base {
                    t = base &+ (try readHLCDelta(&reader))
                } else {
                    t = Int64(bitPattern: try reader.read())
                    base = t
                }
                return Version(dot: Dot(origin, counter), hlc: HLC(storageValue: t))
            }
            func contextEntry() throws -> Dot { Dot(try origins.replica(try reader.readInt64()), try reader.read()) }
            if survivorCount <= 1 && contextCount <= 1 {
                // The common shape, built without arrays.
                let only = survivorCount == 1 ? try survivor() : nil
                registers.set(field, Register(survivor: only, context: contextCount == 1 ? try contextEntry() : nil))
                continue
            }
            var survivors: [Version] = []
            survivors.reserveCapacity(survivorCount)
            for _ in 0..<survivorCount { survivors.append(try survivor()) }
            var context: [Dot] = []
            context.reserveCapacity(contextCount)
            for _ in 0..<contextCount { context.append(try contextEntry()) }
            registers.set(field, Register(decodedSurvivors: survivors, context: context))
        }
        return registers
    }

    /// Writes the difference of two HLC storage values. When the logical parts are equal (nearly
    /// always) the low byte of the difference is zero: the rest is written zigzag, shifted left
    /// one bit (even), so a month apart takes 5 bytes. Otherwise a 1 is written, then the whole
    /// difference zigzag.
    static func writeHLCDelta(_ d: Int64, into buffer: inout VarintWriter) {
        let ms = d >> 8
        if d & 0xFF == 0, ms > -(1 << 61), ms < 1 << 61 {
            buffer.write(Zigzag.encode(ms) << 1)
        } else {
            buffer.write(UInt64(1))
            buffer.write(Zigzag.encode(d))
        }
    }

    static func readHLCDelta(_ reader: inout RawVarintReader) throws -> Int64 {
        let v = try reader.read()
        if v & 1 == 0 { return Zigzag.decode(v >> 1) << 8 }
        guard v == 1 else { throw SyncError(.corrupt, "Siêu dữ liệu đồng bộ bị hỏng (HLC).") }
        return Zigzag.decode(try reader.read())
    }

    /// `supersedes` (sorted) as (origin index, counter) pairs into `buffer`; empty when none.
    static func encodeSupersedes(_ dots: [Dot], origins: OriginTable, into buffer: inout VarintWriter) throws {
        buffer.reset()
        if dots.isEmpty { return }
        var isSorted = true
        for i in dots.indices.dropFirst() where dots[i] < dots[i - 1] {
            isSorted = false
            break
        }
        for d in isSorted ? dots : dots.sorted() {
            buffer.write(try origins.index(d.origin))
            buffer.write(d.counter)
        }
    }

    /// The dots of a `supersedes` blob.
    static func decodeSupersedes(_ blob: Data, origins: OriginTable) throws -> [Dot] {
        var reader = VarintReader(blob)
        var out: [Dot] = []
        while !reader.atEnd {
            let origin = try origins.replica(try reader.readInt64(), in: "Nhật ký thao tác")
            out.append(Dot(origin, try reader.read()))
        }
        return out
    }
}
