import NIOCore
import Testing

@testable import CommuneServer

@Suite("Allowed cores (the event-loop group's size)")
struct AllowedCoresTests {
    @Test("kernel CPU lists are counted: single cores, ranges and both")
    func lists() {
        #expect(AllowedCores.count(list: "0") == 1)
        #expect(AllowedCores.count(list: "0-1") == 2)
        #expect(AllowedCores.count(list: "0,2-3,8") == 4)
        #expect(AllowedCores.count(list: "4-7,12-15") == 8)
    }

    @Test("what is not a CPU list gives no count, so the group keeps its default size")
    func unreadable() {
        for list in ["", "a", "3-1", "1-2-3", "0,,x", "-1"] {
            #expect(AllowedCores.count(list: list) == nil, "\(list)")
        }
    }

    @Test("this process's own list is read: at least one core, at most the machine's")
    func ownAffinity() throws {
        let count = try #require(AllowedCores.count())
        #expect(count >= 1 && count <= System.coreCount)
    }
}
