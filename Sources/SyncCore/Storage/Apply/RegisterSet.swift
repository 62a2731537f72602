/// A record's field registers: only the fields that have one, in field order. A record has up to
/// 14 fields and usually 3–5 registers, so one small buffer replaces a slot per field (allocating,
/// filling and freeing those slots was a measurable part of a merge).
struct RegisterSet {
    private(set) var entries: [(field: Int, register: Register)] = []

    subscript(field: Int) -> Register? {
        for e in entries where e.field == field { return e.register }
        return nil
    }

    private mutating func slot(_ field: Int) -> (index: Int, isNew: Bool) {
        var i = 0
        while i < entries.count && entries[i].field < field { i += 1 }
        if i < entries.count && entries[i].field == field { return (i, false) }
        if entries.capacity == 0 { entries.reserveCapacity(4) }
        entries.insert((field, Register()), at: i)
        return (i, true)
    }

    /// Sets a field's register (the codec decodes them in field order, so this appends).
    mutating func set(_ field: Int, _ register: Register) {
        if let last = entries.last, last.field < field {
            entries.append((field, register))
            return
        }
        entries[slot(field).index].register = register
    }

    /// Changes a field's register in place (an empty one if the field had none); also returns
    /// whether it had none.
    mutating func update<R>(_ field: Int, _ body: (inout Register) -> R) -> (R, isNew: Bool) {
        let (i, isNew) = slot(field)
        return (body(&entries[i].register), isNew)
    }
}
