import Foundation
import GRDB

/// Ops that arrive ahead of a gap in their origin's counters wait in `pending_op` until the gap
/// fills; every batch ends by applying those it made applicable.
extension ApplySession {
    mutating func hold(_ op: Op) throws {
        let originIndex = try index(of: op.dot.origin)
        // A held-back op may supersede values of origins this replica has not heard of yet.
        for d in op.supersedes { _ = try index(of: d.origin) }
        let insert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO pending_op(origin, counter, hlc, record, field, value, supersedes) VALUES (?, ?, ?, ?, ?, ?, ?)")
        try RegisterCodec.encodeSupersedes(op.supersedes, origins: origins, into: &buffer)
        let supersedes = buffer.bytes.isEmpty ? nil : Data(buffer.bytes)
        try insert.execute(arguments: [
            originIndex, Int64(op.dot.counter), op.hlc.storageValue, op.record, op.field, op.value, supersedes,
        ])
        report.heldBack += db.changesCount
    }

    /// Applies held-back ops that now follow their origin's counter, until none does.
    mutating func drainPending(source: OpSource) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM pending_op)") ?? false else { return }
        var progress = true
        while progress {
            progress = false
            for (origin, originIndex) in origins.indexOf {
                let next = vv[origin] + 1
                let select = try db.cachedStatement(
                    sql: "SELECT counter, hlc, record, field, value, supersedes FROM pending_op WHERE origin = ? AND counter <= ? ORDER BY counter")
                let rows = try Row.fetchAll(select, arguments: [originIndex, Int64(next)])
                guard !rows.isEmpty else { continue }
                for row in rows {
                    let op = try OpRow.decode(row, origin: origin, origins: origins, record: row[2], field: row[3], valueColumn: 4)
                    try db.execute(sql: "DELETE FROM pending_op WHERE origin = ? AND counter = ?", arguments: [originIndex, Int64(op.dot.counter)])
                    report.heldBack = max(0, report.heldBack - 1)
                    if op.dot.counter == vv[origin] + 1 {
                        try applyOne(op, source: source)
                        advance(origin, to: op.dot.counter)
                        progress = true
                    }
                }
            }
        }
    }
}
