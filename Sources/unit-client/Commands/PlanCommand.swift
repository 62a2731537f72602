import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Danh mục Kế hoạch 2026: đơn vị, nội dung (ND), hình thức (HT), nhiệm vụ (TN).")

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let c = Catalog.standard
        if output.json {
            try printJSON(c)
            return
        }
        print(c.plan.title)
        print("\nĐơn vị:")
        for u in c.units { print("  \(u.code.padding(toLength: 12, withPad: " ", startingAt: 0)) \(u.name)") }
        print("\nNội dung tuyên truyền:")
        for i in c.contentItems { print("  \(i.code)  \(i.title)") }
        print("\nHình thức tuyên truyền (đơn vị tính):")
        for f in c.forms {
            var m = f.quantityUnit
            if let p = f.participantsUnit { m += "; \(p)" }
            if f.requiresURL { m += "; kèm đường dẫn" }
            print("  \(f.code)  \(f.title) (\(m))")
        }
        print("\nNhiệm vụ tổ chức thực hiện:")
        for d in c.duties { print("  \(d.code)  [\(d.units.joined(separator: ", "))] \(d.title)") }
    }
}
