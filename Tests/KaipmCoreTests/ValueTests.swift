import Testing
@testable import KaipmCore

@Suite struct ValueTests {
    @Test(arguments: [("1.2.3", true), ("1.2", false), ("01.2.3", false), ("1.2.3-rc.1+b5", true), ("v1.2.3", false), ("1.2.3-", false)])
    func semanticVersionParsing(_ text: String, valid: Bool) {
        #expect((SemanticVersion(text) != nil) == valid)
    }

    @Test func semanticVersionOrdering() {
        let ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "2.0.0"]
        let versions = ordered.compactMap(SemanticVersion.init)
        #expect(versions == versions.sorted())
        #expect(versions.count == ordered.count)
    }

    @Test func configMergesKeyByKeyAndRendersCanonically() {
        let defaults = ConfigValue.map(["units": .string("metric"), "server": .map(["port": .int(80), "host": .string("a")])])
        let file = ConfigValue.map(["server": .map(["port": .int(8080)])])
        let merged = defaults.merged(with: file)
        #expect(merged.renderYAML() == "server:\n  host: \"a\"\n  port: 8080\nunits: \"metric\"\n")
        #expect(merged.flattened()["server.port"] == .int(8080))
    }

    @Test func renderedConfigIsValidYAMLThatReadsBackTheSame() throws {
        let value = ConfigValue.map(["no": .string("yes"), "list": .list([.int(1), .string("two: 2")]), "q": .string("a\"b\n"), "n": .null])
        let node = try YAMLDocument.parse(Array(value.renderYAML().utf8), file: "x")
        #expect(ConfigValue(node) == value)
    }

    @Test func treeHashTextRoundTrips() {
        let hash = TreeHash(files: [(path: "b", sha256: Array(repeating: 7, count: 32)), (path: "a", sha256: Array(repeating: 9, count: 32))])
        #expect(TreeHash(hash.value) == hash)
        #expect(hash.hex.count == 64)
        #expect(TreeHash("h1:short") == nil)
    }

    @Test func quantities() {
        #expect(Resources.parseQuantity("128Mi") == 128 << 20)
        #expect(Resources.parseQuantity("1G") == 1_000_000_000)
        #expect(Resources.parseQuantity("-1") == nil)
        #expect(Resources.parseQuantity("lots") == nil)
    }
}
