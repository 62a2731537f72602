import Foundation
import Testing

@testable import SyncCore

@Suite struct VietnameseTextTests {
    @Test("NFD thành NFC / decomposed input is stored composed")
    func nfc() {
        let nfd = "Đồng Đăng".decomposedStringWithCanonicalMapping
        #expect(Array(nfd.unicodeScalars) != Array("Đồng Đăng".unicodeScalars))
        #expect(Array(VietnameseText.nfc(nfd).unicodeScalars) == Array("Đồng Đăng".unicodeScalars))
    }

    @Test(
        "Khóa tìm kiếm bỏ dấu, đ → d, chữ thường, gộp khoảng trắng / the search key",
        arguments: [
            ("Đồng Đăng", "dong dang"),
            ("  Cửa   khẩu\tHữu\nNghị  ", "cua khau huu nghi"),
            ("ĐỐI THOẠI DOANH NGHIỆP", "doi thoai doanh nghiep"),
            ("Ấn phẩm ưu tiên", "an pham uu tien"),
            ("Tân Thanh".decomposedStringWithCanonicalMapping, "tan thanh"),
            ("", ""),
        ])
    func fold(input: String, expected: String) {
        #expect(VietnameseText.fold(input) == expected)
    }

    @Test("Tìm kiếm không phân biệt dấu và hoa thường / search ignores diacritics and case")
    func matches() {
        let title = "Đối thoại doanh nghiệp tại Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn"
        #expect(VietnameseText.matches(title, "dong dang"))
        #expect(VietnameseText.matches(title, "ĐỒNG ĐĂNG"))
        #expect(VietnameseText.matches(title, "lang   son"))
        #expect(VietnameseText.matches(title.decomposedStringWithCanonicalMapping, "Đồng Đăng"))
        #expect(!VietnameseText.matches(title, "huu nghi"))
        #expect(VietnameseText.matches(title, ""), "an empty search matches everything")
    }

    @Test(
        "Thứ tự tiếng Việt / Vietnamese alphabetical order",
        arguments: [
            ["Ân", "Bình", "Dung", "Đông"],
            ["An", "Anh", "Ăn", "Ân", "Bình"],
            ["da", "dz", "đa", "e"],
            ["e", "ê", "g"],
            ["o", "ô", "ơ", "p"],
            ["u", "ư", "v"],
            // Letters first, tones second: ngang, huyền, hỏi, ngã, sắc, nặng.
            ["ma", "mà", "mả", "mã", "má", "mạ", "mb"],
            ["Đông", "đông"],
            ["Lạng Sơn", "Lào Cai", "Long An"],
        ])
    func vietnameseOrder(expected: [String]) {
        var rng = SeededRandom(seed: 42)
        for _ in 0..<5 {
            #expect(VietnameseText.sorted(rng.shuffle(expected)) { $0 } == expected)
        }
        // The same words typed decomposed sort the same.
        let nfd = expected.map(\.decomposedStringWithCanonicalMapping)
        #expect(VietnameseText.sorted(nfd.reversed()) { $0 }.map(VietnameseText.nfc) == expected)
    }

    @Test("Khóa sắp xếp là một thứ tự toàn phần / the collation key is a total order")
    func totalOrder() {
        let words = ["Ân", "ân", "Ấn", "An", "an", "ăn", "Bình", "bình", "Đông", "đông", "Dung", "dung", "ĐÔNG"]
        let keys = words.map(VietnameseText.collationKey)
        #expect(Set(keys).count == words.count, "distinct words have distinct keys")
        #expect(VietnameseText.sorted(words) { $0 } == VietnameseText.sorted(words.reversed()) { $0 })
    }
}
