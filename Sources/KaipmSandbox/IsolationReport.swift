/// Which of a sandbox's limits are in force on this host, and by what; the rest, with why not.
///
/// The supervisor writes it into the status file; a future `kaipm doctor` and `kaipm status`
/// print it. A limit that is not enforced refuses the start unless the spec allows weaker isolation.
public struct IsolationReport: Sendable, Equatable {
    /// One limit.
    public struct Item: Sendable, Equatable {
        /// `memory`, `cpu`, `pids`, `identity`, `rlimit.as`, `network`, …
        public var limit: String
        public var enforced: Bool
        /// What enforces it (`cgroup v1 memory.limit_in_bytes=67108864`), or why nothing does.
        public var detail: String

        public init(limit: String, enforced: Bool, detail: String) {
            self.limit = limit
            self.enforced = enforced
            self.detail = detail
        }
    }

    public var items: [Item]

    public init(items: [Item] = []) {
        self.items = items
    }

    /// The items not enforced.
    public var notEnforced: [Item] { items.filter { !$0.enforced } }

    /// The item for a limit.
    public subscript(limit: String) -> Item? { items.first { $0.limit == limit } }

    public mutating func add(_ limit: String, enforced: Bool, _ detail: String) {
        items.append(Item(limit: limit, enforced: enforced, detail: detail))
    }

    public var json: JSON {
        .array(items.map { item in
            .object(["limit": .string(item.limit), "enforced": .bool(item.enforced), "detail": .string(item.detail)])
        })
    }

    public init(json: JSON) {
        items = (json.arrayValue ?? []).compactMap { entry in
            guard let limit = entry["limit"]?.stringValue, let enforced = entry["enforced"]?.boolValue else { return nil }
            return Item(limit: limit, enforced: enforced, detail: entry["detail"]?.stringValue ?? "")
        }
    }
}
